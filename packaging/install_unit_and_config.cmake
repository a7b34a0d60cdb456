# Run by `cmake --install` (and by CPack), not at configure time: installs the systemd unit,
# its paths those of the prefix installed to, and the config folder. Set by
# packaging/install.cmake: BROADCASTD_SOURCE_DIR, BROADCASTD_STAGING_DIR (in the build tree)
# and the GNUInstallDirs destinations BROADCASTD_INSTALL_{BINDIR,DOCDIR,SYSCONFDIR,UNITDIR}.
# file(INSTALL) adds DESTDIR and lists what it installs in install_manifest.txt, as the
# generated install() rules do.

string(REGEX REPLACE "/+$" "" prefix "${CMAKE_INSTALL_PREFIX}")

# A destination under the prefix, as install(DESTINATION) makes of a relative one.
function(bd_under_prefix out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

# A destination on the root file system for the prefix /usr (GNUInstallDirs' rule for
# SYSCONFDIR: /usr's is /etc; Debian 12's units are in /lib/systemd/system), under the
# prefix for any other.
function(bd_under_root_for_usr out dir)
  if(NOT IS_ABSOLUTE "${dir}" AND (prefix STREQUAL "/usr" OR prefix STREQUAL ""))
    set(${out} "/${dir}" PARENT_SCOPE)
  else()
    bd_under_prefix(result "${dir}")
    set(${out} "${result}" PARENT_SCOPE)
  endif()
endfunction()

bd_under_prefix(BROADCASTD_BINDIR "${BROADCASTD_INSTALL_BINDIR}")
bd_under_prefix(BROADCASTD_DOCDIR "${BROADCASTD_INSTALL_DOCDIR}")
bd_under_root_for_usr(sysconfdir "${BROADCASTD_INSTALL_SYSCONFDIR}")
set(BROADCASTD_CONFDIR "${sysconfdir}/broadcastd")
bd_under_root_for_usr(unitdir "${BROADCASTD_INSTALL_UNITDIR}")

set(staging "${BROADCASTD_STAGING_DIR}")
configure_file("${BROADCASTD_SOURCE_DIR}/systemd/broadcastd.service.in"
               "${staging}/broadcastd.service" @ONLY)
file(INSTALL "${staging}/broadcastd.service" DESTINATION "${unitdir}")

# The example config, installed under the name the unit gives it.
configure_file("${BROADCASTD_SOURCE_DIR}/config/broadcastd.example.yaml"
               "${staging}/etc/broadcastd.yaml" COPYONLY)
file(INSTALL "${staging}/etc/broadcastd.yaml" DESTINATION "${BROADCASTD_CONFDIR}")
file(MAKE_DIRECTORY "${staging}/etc/campaigns" "${staging}/etc/credentials")
file(INSTALL "${staging}/etc/campaigns" DESTINATION "${BROADCASTD_CONFDIR}")
file(INSTALL "${staging}/etc/credentials" DESTINATION "${BROADCASTD_CONFDIR}"
     DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
