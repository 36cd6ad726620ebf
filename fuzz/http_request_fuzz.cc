// Fuzz target: HTTP request parsing and routing as node/http/server.cc does it:
// Boost.Beast's request parser with the server's header and body limits, fed
// the bytes in pieces of a fuzzed size (as a slow or pipelining client sends
// them), then the server's dispatch steps: target split, query parsing,
// lower-cased headers, Router::Find over the API's routes (node/api.cc).
//
// Input: one byte choosing the piece size (1..64), then the raw request bytes.
// Invariants:
//   - the parser never accepts headers over the header limit or a body over
//     the body limit;
//   - Router::Find's answer is coherent: a found route was registered for the
//     method and its captures are exactly the pattern's; a 405 lists sorted
//     methods without the one asked for;
//   - routing round-trips: rebuilding the path from the found pattern with
//     every capture percent-encoded finds the same route and captures again;
//   - Request::Header finds every header case-insensitively, first one wins.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/check.h"
#include "fuzz/fuzz_util.h"
#include "node/http/router.h"
#include "node/http/types.h"

namespace cl::fuzz {
namespace {

namespace bhttp = boost::beast::http;
using node::http::Router;

constexpr uint32_t kHeaderLimit = 4096;
constexpr uint32_t kBodyLimit = 8192;
constexpr uint32_t kUrlLimit = 1024;

// The routes of node/api.cc (docs/openapi.yaml; node_openapi_test keeps the
// two in step), plus a literal "/v1/blocks/latest" beside "/v1/blocks/{height}"
// so literal-over-capture precedence is exercised too.
const std::vector<std::pair<std::string, std::string>>& ApiRoutes() {
  static const auto* r = new std::vector<std::pair<std::string, std::string>>{
      {"POST", "/v1/transactions"},          {"GET", "/v1/transactions/{id}"},
      {"GET", "/v1/blocks/{height}"},        {"GET", "/v1/proofs/consistency"},
      {"GET", "/v1/certificates/{doc_hash}"}, {"GET", "/v1/certificates/id/{cert_id}"},
      {"GET", "/v1/authorizations/{id}"},    {"GET", "/v1/services"},
      {"GET", "/v1/services/{code}"},        {"GET", "/v1/proof-requests/{id}"},
      {"GET", "/v1/holders/{ref}/access-log"}, {"GET", "/v1/holders/{ref}/authorizations"},
      {"GET", "/v1/holders/{ref}/certificates"}, {"GET", "/v1/events"},
      {"GET", "/v1/status"},                 {"GET", "/v1/genesis"},
      {"GET", "/healthz"},                   {"GET", "/readyz"},
      {"GET", "/metrics"},                   {"POST", "/v1/admin/membership"},
      {"GET", "/v1/blocks/latest"}};
  return *r;
}

const Router& TheRouter() {
  static const Router* router = [] {
    auto* r = new Router();
    for (const auto& [m, p] : ApiRoutes()) r->Handle(m, p, [](node::http::Request, node::http::Responder) {});
    return r;
  }();
  return *router;
}

std::string EncodeAll(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void CheckRouting(const std::string& method, const std::string& path) {
  const Router& router = TheRouter();
  Router::Match m = router.Find(method, path);
  if (m.kind == Router::Match::kMethodNotAllowed) {
    CL_CHECK(!m.allowed.empty() && std::is_sorted(m.allowed.begin(), m.allowed.end()), "Allow list");
    CL_CHECK(std::find(m.allowed.begin(), m.allowed.end(), method) == m.allowed.end(), "405 for an allowed method");
    return;
  }
  if (m.kind != Router::Match::kFound) return;
  CL_CHECK(m.handler != nullptr, "found without a handler");
  bool registered = false;
  for (const auto& [rm, rp] : ApiRoutes()) registered = registered || (rm == method && rp == m.pattern);
  CL_CHECK(registered, "found an unregistered (method, pattern)");
  // Rebuild the path from the pattern.
  std::string rebuilt;
  size_t captures = 0;
  for (size_t i = 1; i <= m.pattern.size();) {
    size_t j = m.pattern.find('/', i);
    if (j == std::string::npos) j = m.pattern.size();
    std::string_view seg(m.pattern.data() + i, j - i);
    rebuilt += '/';
    if (!seg.empty() && seg.front() == '{') {
      auto it = m.params.find(std::string(seg.substr(1, seg.size() - 2)));
      CL_CHECK(it != m.params.end(), "a capture of the pattern is missing");
      rebuilt += EncodeAll(it->second);
      ++captures;
    } else {
      rebuilt += seg;
    }
    i = j + 1;
  }
  CL_CHECK(captures == m.params.size(), "captures are exactly the pattern's");
  Router::Match again = router.Find(method, rebuilt);
  CL_CHECK(again.kind == Router::Match::kFound && again.pattern == m.pattern && again.params == m.params,
           "routing does not round-trip for " + rebuilt);
}

void Dispatch(const bhttp::request<bhttp::string_body>& req) {
  node::http::Request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  const size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (r.path.empty() || r.path[0] != '/') return;  // 400
  if (q != std::string::npos && !node::http::ParseQuery(std::string_view(r.target).substr(q + 1), &r.query))
    return;  // 400
  for (const auto& f : req) r.headers.emplace_back(Lower(std::string(f.name_string())), std::string(f.value()));
  for (const auto& kv : r.headers) {
    const std::string& k = kv.first;
    const std::string* found = r.Header(k);
    CL_CHECK(found != nullptr, "a received header is not found");
    const auto first = std::find_if(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.first == k; });
    CL_CHECK(*found == first->second, "Header() is not the first of its name");
  }
  for (const auto& [k, v] : r.query) CL_CHECK(r.Query(k) != nullptr, "a parsed query key is not found");
  CheckRouting(r.method, r.path);
}

}  // namespace
}  // namespace cl::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cl::fuzz;
  Input in(data, size);
  const size_t piece = 1 + in.Byte() % 64;
  const std::string bytes = in.Rest();
  // Requests pipelined on one connection, as the server reads them.
  size_t pos = 0;
  for (int requests = 0; requests < 8 && pos < bytes.size(); ++requests) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    boost::system::error_code ec;
    size_t fed = pos;
    while (!parser.is_done() && !ec && pos < bytes.size()) {
      fed = std::min(bytes.size(), fed + piece);
      size_t used = parser.put(boost::asio::buffer(bytes.data() + pos, fed - pos), ec);
      if (ec == bhttp::error::need_more) ec = {};
      pos += used;
      if (used == 0 && fed == bytes.size()) break;  // the parser wants more than there is
    }
    if (ec || !parser.is_done()) return 0;  // 4xx and close, or the client went quiet
    const auto& req = parser.get();
    size_t header_bytes = req.method_string().size() + req.target().size() + 12;
    for (const auto& f : req) header_bytes += f.name_string().size() + f.value().size() + 3;  // "name:value\r\n"
    CL_CHECK(header_bytes <= kHeaderLimit + 64, "headers over the limit were accepted");
    CL_CHECK(req.body().size() <= kBodyLimit, "a body over the limit was accepted");
    if (req.target().size() > kUrlLimit) return 0;  // 414
    Dispatch(req);
  }
  return 0;
}
