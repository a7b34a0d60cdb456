# Module lines the compiler enforces.
#
# Sources include headers as "module/file.h", relative to src/. There is no global include
# folder: each library's include root is a folder of its own in the build tree,
# build/include/<library>/, holding only a link named after its source folder
# (build/include/bd_store/store -> src/store). The root is the library's PUBLIC include
# directory, so a target finds the headers of exactly the libraries it links (directly, or
# through a PUBLIC link of one of them): an include of any other module fails with "No such
# file or directory". tests/module_lines/ checks that it does.
#
# bd_add_module(<library> <source>... [HEADERS <header>...])
#   Defines the library from the sources of the calling folder. Without HEADERS the root
#   links the whole folder; a folder that holds two libraries names each one's headers,
#   linked one by one (build/include/bd_credential/config/credential_file.h), so that
#   neither library shows the other's headers. A new header of such a folder is added to
#   its library's HEADERS.
function(bd_add_module library)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "HEADERS")
  add_library(${library} ${ARG_UNPARSED_ARGUMENTS})
  cmake_path(GET CMAKE_CURRENT_SOURCE_DIR FILENAME folder)
  set(root ${PROJECT_BINARY_DIR}/include/${library})
  # Made again at each configure, so that a header taken off HEADERS is gone from it.
  file(REMOVE_RECURSE ${root})
  if(ARG_HEADERS)
    file(MAKE_DIRECTORY ${root}/${folder})
    foreach(header IN LISTS ARG_HEADERS)
      if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${header})
        message(FATAL_ERROR "${library}: no header ${folder}/${header}")
      endif()
      file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}/${header} ${root}/${folder}/${header}
           SYMBOLIC)
    endforeach()
  else()
    file(MAKE_DIRECTORY ${root})
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${folder} SYMBOLIC)
  endif()
  target_include_directories(${library} PUBLIC ${root})
endfunction()
