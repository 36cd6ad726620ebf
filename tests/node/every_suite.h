// Running a parameterized test once per crypto suite (crypto::SuiteNames()),
// with the suite's name ending each test's name:
//
//   class ClusterTest : public ::testing::TestWithParam<std::string> { ... };
//   TEST_P(ClusterTest, Commits) { ... MakeSuite(GetParam()) ... }
//   CL_INSTANTIATE_FOR_EVERY_SUITE(ClusterTest);
//   // -> Suites/ClusterTest.Commits/ed25519_sha256, .../sm2_sm3
//
// Used by the node and CLI tests (issue 10: they run for both suites).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "crypto/suite.h"

namespace cl::testutil {

// "sm2-sm3" -> "sm2_sm3" (test names are identifiers).
inline std::string SuiteTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

}  // namespace cl::testutil

#define CL_INSTANTIATE_FOR_EVERY_SUITE(fixture)                                       \
  INSTANTIATE_TEST_SUITE_P(Suites, fixture, ::testing::ValuesIn(::cl::crypto::SuiteNames()), \
                           ::cl::testutil::SuiteTestName)
