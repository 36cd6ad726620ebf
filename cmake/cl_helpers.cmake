# cl_target_defaults(target): warnings and include root for one of our targets.
function(cl_target_defaults target)
  target_compile_options(${target} PRIVATE ${CL_WARNING_FLAGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# Several people edit the tree at once: outside CI a target that names a source
# file that does not exist (yet) is skipped with a warning instead of breaking
# everyone's configure. In CI (CL_STRICT_SOURCES=ON) it is an error.
option(CL_STRICT_SOURCES "A missing source file is a configure error" OFF)
function(cl_sources_exist out)
  set(ok TRUE)
  foreach(src ${ARGN})
    if(NOT IS_ABSOLUTE ${src})
      set(src ${CMAKE_CURRENT_SOURCE_DIR}/${src})
    endif()
    if(NOT EXISTS ${src})
      set(ok FALSE)
      if(CL_STRICT_SOURCES)
        message(FATAL_ERROR "missing source ${src}")
      endif()
      message(WARNING "skipping a target: missing source ${src}")
    endif()
  endforeach()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()

# cl_library(NAME SOURCES ... DEPS ...): one library per module folder.
function(cl_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  cl_sources_exist(ok ${ARG_SOURCES})
  if(NOT ok)
    return()
  endif()
  add_library(${name} STATIC ${ARG_SOURCES})
  cl_target_defaults(${name})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# cl_test(NAME SOURCES ... DEPS ... LABELS module kind [TIMEOUT s]):
# a GoogleTest binary in build/bin whose cases are registered one by one with CTest
# and labelled with the module and the kind (unit, sim, cluster, fuzz).
function(cl_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  cl_sources_exist(ok ${ARG_SOURCES})
  if(NOT ok)
    return()
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  cl_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  # Labels are set by an include file of their own, run after discovery:
  # gtest_discover_tests flattens PROPERTIES, so LABELS "module;kind" passed
  # there would keep only the module (and `ctest -L unit` would select nothing).
  set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
  file(WRITE ${labels_file}
    "foreach(t IN LISTS ${name}_TESTS)\n"
    "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${ARG_LABELS}\")\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
endfunction()
