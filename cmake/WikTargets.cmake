# wik_add_library(NAME SOURCES ... DEPS ...): one static library per architecture folder.
# Sources include private headers as "part/file.h" (root: src/) and public ones as <wik/file.h>.
function(wik_add_library name)
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${arg_SOURCES})
  target_include_directories(${name} PUBLIC
    "${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/src")
  target_link_libraries(${name} PUBLIC ${arg_DEPS} PRIVATE wik_options ${arg_PRIVATE_DEPS})
endfunction()

# wik_add_test(NAME SOURCES ... DEPS ...): one GoogleTest executable per part, registered with CTest.
function(wik_add_test name)
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE wik_options wik_test_support ${arg_DEPS} GTest::gmock_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "WIK_SOURCE_DIR=${PROJECT_SOURCE_DIR};WIK_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()
