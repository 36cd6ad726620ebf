// docs/openapi.yaml and the served routes agree: every documented route is
// served and every served route is documented.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "node/api.h"

namespace cl::node {
namespace {

std::set<std::pair<std::string, std::string>> DocumentedRoutes() {
  std::ifstream in(std::string(CL_SOURCE_DIR) + "/docs/openapi.yaml");
  EXPECT_TRUE(in.good()) << "docs/openapi.yaml is missing";
  std::set<std::pair<std::string, std::string>> out;
  std::string line, path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!in_paths) continue;
    if (line.size() > 3 && line.rfind("  /", 0) == 0 && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
    } else if (!path.empty() && line.rfind("    ", 0) == 0 && line[4] != ' ' && line.back() == ':') {
      std::string method = line.substr(4, line.size() - 5);
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.emplace(method, path);
    }
  }
  return out;
}

TEST(OpenApiTest, EveryRouteIsDocumentedAndEveryDocumentedRouteIsServed) {
  const auto documented = DocumentedRoutes();
  ASSERT_GE(documented.size(), 15u);
  const auto listed = Api::Routes();
  const std::set<std::pair<std::string, std::string>> served(listed.begin(), listed.end());
  for (const auto& r : served) EXPECT_TRUE(documented.contains(r)) << r.first << " " << r.second << " is not in openapi.yaml";
  for (const auto& r : documented) EXPECT_TRUE(served.contains(r)) << r.first << " " << r.second << " is documented but not served";
}

}  // namespace
}  // namespace cl::node
