# cmake -DBUILD_DIR=<build> -DTARGET=<target> [-DMISSING=<module/file.h>] -P build_target.cmake
# Builds TARGET. With MISSING: passes only if the build fails because the compiler cannot find
# MISSING (GCC: "<header>: No such file or directory"; clang: "'<header>' file not found").
# Without: passes only if the build succeeds.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT DEFINED MISSING)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${TARGET} does not build:\n${output}")
  endif()
  message(STATUS "${TARGET} builds")
  return()
endif()
if(status EQUAL 0)
  message(FATAL_ERROR "${TARGET} built although it includes ${MISSING} without linking its module")
endif()
string(FIND "${output}" "${MISSING}: No such file or directory" gcc_says)
string(FIND "${output}" "'${MISSING}' file not found" clang_says)
if(gcc_says EQUAL -1 AND clang_says EQUAL -1)
  message(FATAL_ERROR "${TARGET} failed, but not for want of ${MISSING}:\n${output}")
endif()
message(STATUS "${TARGET} fails as it must: ${MISSING} is not found")
