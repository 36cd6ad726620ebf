#include "node/address.h"

#include <gtest/gtest.h>

namespace cl::node {
namespace {

TEST(AddressTest, ParsesHostPort) {
  struct Case { const char* name; const char* text; bool ok; HostPort want; };
  const Case cases[] = {
      {"ipv4", "127.0.0.1:7100", true, {"127.0.0.1", 7100}},
      {"name", "node-2.city.gov:8080", true, {"node-2.city.gov", 8080}},
      {"ipv6", "[::1]:0", true, {"::1", 0}},
      {"any", "0.0.0.0:65535", true, {"0.0.0.0", 65535}},
      {"no_port", "127.0.0.1", false, {}},
      {"empty_port", "127.0.0.1:", false, {}},
      {"big_port", "127.0.0.1:65536", false, {}},
      {"neg_port", "h:-1", false, {}},
      {"junk_port", "h:80x", false, {}},
      {"empty_host", ":80", false, {}},
      {"bare_ipv6", "::1:80", false, {}},
      {"space", "a b:80", false, {}},
  };
  for (const auto& c : cases) {
    auto r = ParseHostPort(c.text);
    EXPECT_EQ(r.ok(), c.ok) << c.name << ": " << r.status();
    if (c.ok && r.ok()) {
      EXPECT_EQ(*r, c.want) << c.name;
    }
    if (!c.ok && !r.ok()) {
      EXPECT_NE(r.status().message().find(c.text), std::string::npos) << c.name;
    }
  }
}

}  // namespace
}  // namespace cl::node
