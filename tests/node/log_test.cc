#include "node/log.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace cl::node {
namespace {

TEST(LogTest, OneLinePerEventWithTimestampLevelAndFields) {
  std::ostringstream os;
  Logger log = Logger::ToStream(os, LogLevel::kInfo).With({{"node", NodeId(1)}});
  log.Info("peer_connected", {{"peer", NodeId(2)}, {"term", RaftTerm(7)}, {"addr", "10.0.0.2:7100"}});
  std::string out = os.str();
  EXPECT_TRUE(std::regex_match(
      out, std::regex(R"(ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info event=peer_connected node=1 )"
                      R"(peer=2 term=7 addr=10\.0\.0\.2:7100\n)")))
      << out;
}

TEST(LogTest, LevelFiltersEvents) {
  std::ostringstream os;
  Logger log = Logger::ToStream(os, LogLevel::kWarn);
  log.Info("hidden");
  log.Debug("hidden");
  log.Warn("shown");
  EXPECT_EQ(os.str().find("hidden"), std::string::npos);
  EXPECT_NE(os.str().find("level=warning event=shown"), std::string::npos);
  log.SetLevel(LogLevel::kDebug);
  log.Debug("now_shown");
  EXPECT_NE(os.str().find("level=debug event=now_shown"), std::string::npos);
  EXPECT_FALSE(Logger::Null().Enabled(LogLevel::kError));
}

TEST(LogTest, QuotesAndEscapesHostileValues) {
  struct Case { const char* name; std::string value; std::string want; };
  const Case cases[] = {
      {"plain", "abc", "event=e k=abc"},
      {"empty", "", "event=e k=\"\""},
      {"space", "a b", "event=e k=\"a b\""},
      {"forged_field", "x other=1", "event=e k=\"x other=1\""},
      {"newline", "a\nINFO event=forged", "event=e k=\"a\\nINFO event=forged\""},
      {"quote_backslash", "a\"b\\c", "event=e k=\"a\\\"b\\\\c\""},
      {"control", std::string("a\x01", 2), "event=e k=\"a\\x01\""},
  };
  Logger log = Logger::Null();
  for (const auto& c : cases) EXPECT_EQ(log.Format("e", {{"k", c.value}}), c.want) << c.name;
}

TEST(LogTest, StatusFieldAndLevelNames) {
  EXPECT_EQ(Logger::Null().Format("e", {{"err", NotFound("block 7")}}), "event=e err=\"NOT_FOUND: block 7\"");
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("off"), LogLevel::kOff);
  auto bad = ParseLogLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cl::node
