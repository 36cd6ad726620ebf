# Fuzzing engine selection, included by the top-level CMakeLists before the
# modules are added.
#
# With clang (configure with CC=clang CXX=clang++, as scripts/test does for
# build-fuzz) every target is compiled with libFuzzer coverage, AddressSanitizer
# and UndefinedBehaviorSanitizer, and fuzz/ links real libFuzzer binaries. Build
# only the fuzz targets there (`--target fuzz_all`): the rest of the tree is
# GCC's job. With GCC, fuzz/ builds plain corpus-replay executables instead.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  set(CL_FUZZ_LIBFUZZER ON)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # The warning set is tuned for GCC (the CI compiler); clang's differs, so
  # its warnings do not fail the fuzz build.
  list(REMOVE_ITEM CL_WARNING_FLAGS -Werror)
  list(APPEND CL_WARNING_FLAGS -Wno-unknown-warning-option)
  # libstdc++ 12 hides std::expected from clang 14 (it needs C++20 concepts
  # that clang 14 does not fully implement); node/mempool.h uses it.
  include_directories(BEFORE SYSTEM ${CMAKE_CURRENT_LIST_DIR}/compat)
else()
  set(CL_FUZZ_LIBFUZZER OFF)
endif()
