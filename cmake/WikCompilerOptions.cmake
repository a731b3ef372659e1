# Warnings, sanitizers and the compiler cache, applied to every wik target through wik_options.
add_library(wik_options INTERFACE)
target_compile_options(wik_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # C++20 designated initializers name only the fields they set; the rest take their defaults.
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(wik_options INTERFACE -Wmisleading-indentation -Wduplicated-cond
    -Wduplicated-branches -Wlogical-op)
endif()

if(WIK_SANITIZE)
  set(wik_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_compile_options(wik_options INTERFACE ${wik_sanitizers})
  target_link_options(wik_options INTERFACE ${wik_sanitizers})
endif()

find_program(WIK_CCACHE ccache)
if(WIK_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${WIK_CCACHE}")
endif()

if(WIK_FUZZ_ENGINE STREQUAL "libfuzzer")
  # Coverage instrumentation for every library the fuzz targets link, not only the targets.
  # clang 14 cannot compile coroutines with -fsanitize=function next to ASan and fuzzer coverage.
  target_compile_options(wik_options INTERFACE -fsanitize=fuzzer-no-link -fno-sanitize=function)
endif()
