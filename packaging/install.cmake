# Installation (GNUInstallDirs) and the Debian package (CPack's DEB generator).
#
# Every destination is relative to the prefix, so `cmake --install build --prefix P` puts every
# file under P. The unit and the config folder are placed, and the paths in the unit written,
# at install time for the prefix actually installed to (packaging/install_unit_and_config.cmake):
# under P, except that for the prefix /usr they go where Debian puts them, /etc/broadcastd
# and /lib/systemd/system (GNUInstallDirs' rule for /usr's SYSCONFDIR, applied to the
# installed prefix rather than the configured one).
#
# The package (its layout: scripts/package-test.sh):
#   cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr ... && cmake --build build
#   (cd build && cpack -G DEB)        # build/broadcastd_<version>_<arch>.deb
# CPack packs the build that is already there: nothing is compiled a second time.

include(GNUInstallDirs)

set(BROADCASTD_INSTALL_UNITDIR "lib/systemd/system"
    CACHE PATH "where the systemd unit is installed (relative: to the prefix; /lib/... for /usr)")

set(BROADCASTD_DATADIR "${CMAKE_INSTALL_DATADIR}/broadcastd")
set(BROADCASTD_LIBEXECDIR "${CMAKE_INSTALL_LIBEXECDIR}/broadcastd")

# Man pages: rendered from man/*.scd with scdoc, gzipped as Debian installs them.
find_program(SCDOC scdoc)
set(BROADCASTD_MAN_PAGES broadcastd.8 broadcastd.yaml.5 broadcastd-campaign.5)
if(SCDOC)
  set(man_outputs)
  foreach(page IN LISTS BROADCASTD_MAN_PAGES)
    set(source ${PROJECT_SOURCE_DIR}/man/${page}.scd)
    set(output ${PROJECT_BINARY_DIR}/man/${page}.gz)
    add_custom_command(
      OUTPUT ${output}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND sh -c "'${SCDOC}' < '${source}' | gzip -9n > '${output}'"
      DEPENDS ${source}
      COMMENT "Rendering man page ${page}"
      VERBATIM)
    list(APPEND man_outputs ${output})
    string(REGEX MATCH "[0-9]$" section ${page})
    install(FILES ${output} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${man_outputs})
else()
  message(WARNING "scdoc not found: man pages are not built (apt-get install scdoc)")
endif()

if(TARGET broadcastd)
  install(TARGETS broadcastd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET easemob-sim)
  # For dry runs (broadcastd(8), DRY RUNS); not a command of its own on PATH.
  install(TARGETS easemob-sim RUNTIME DESTINATION ${BROADCASTD_LIBEXECDIR})
endif()
install(FILES ${PROJECT_SOURCE_DIR}/completions/broadcastd.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME broadcastd)
install(FILES ${PROJECT_SOURCE_DIR}/schemas/campaign.schema.json DESTINATION ${BROADCASTD_DATADIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Monitoring (README, "Monitoring"): the Prometheus alerting rules with their promtool unit
# tests, and the Grafana dashboard beside them.
install(FILES ${PROJECT_SOURCE_DIR}/monitoring/broadcastd.rules.yml
              ${PROJECT_SOURCE_DIR}/monitoring/broadcastd.rules.test.yml
              ${PROJECT_SOURCE_DIR}/monitoring/broadcastd-dashboard.json
        DESTINATION ${BROADCASTD_DATADIR}/prometheus)
install(FILES ${PROJECT_SOURCE_DIR}/config/broadcastd.example.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/campaigns/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/campaigns
        FILES_MATCHING PATTERN "*.yaml" PATTERN "README.md")
# The unit (its paths those of the prefix installed to) and the config folder: the config (a
# conffile in the package: an upgrade never overwrites the operator's edits), the campaign
# folder and the credential folder (root only).
install(CODE "
  set(BROADCASTD_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(BROADCASTD_STAGING_DIR \"${PROJECT_BINARY_DIR}/packaging\")
  set(BROADCASTD_INSTALL_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(BROADCASTD_INSTALL_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
  set(BROADCASTD_INSTALL_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
  set(BROADCASTD_INSTALL_UNITDIR \"${BROADCASTD_INSTALL_UNITDIR}\")
  include(\"${PROJECT_SOURCE_DIR}/packaging/install_unit_and_config.cmake\")")

# ------------------------------------------------------------------ package
# CPack's DEB generator rather than a debian/ folder: it packs the build CI has
# just made and tested (dpkg-buildpackage would build everything again), the
# install() rules above are the one list of what ships, and it needs no
# debhelper. The maintainer scripts and conffiles are in packaging/.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME broadcastd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "broadcastd maintainers <broadcastd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "sends scheduled Easemob broadcast campaigns within the API's limits")
set(CPACK_PACKAGE_DESCRIPTION
    "A daemon that takes YAML campaign files from a folder into a persistent SQLite queue\n\
and sends each Easemob IM broadcast as soon as its schedule, the endpoint's rate\n\
windows and the app's daily budget allow, never twice. Includes a loopback\n\
simulator of the Easemob endpoints for dry runs.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_SET_DESTDIR ON)  # /etc and /lib/systemd are outside the prefix /usr
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/conffiles ${PROJECT_SOURCE_DIR}/packaging/postinst
    ${PROJECT_SOURCE_DIR}/packaging/prerm ${PROJECT_SOURCE_DIR}/packaging/postrm)
include(CPack)
