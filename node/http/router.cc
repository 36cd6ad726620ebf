#include "node/http/router.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "base/check.h"

namespace cl::node::http {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  size_t i = 1;
  while (true) {
    size_t j = path.find('/', i);
    out.push_back(path.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// ------------------------------------------------------------------ types.h

const std::string* Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (EqualsIgnoreCase(k, name)) return &v;
  return nullptr;
}

const std::string* Request::Query(std::string_view key) const {
  for (const auto& [k, v] : query)
    if (k == key) return &v;
  return nullptr;
}

const std::string& Request::Param(std::string_view name) const {
  static const std::string kEmpty;
  auto it = params.find(std::string(name));
  return it == params.end() ? kEmpty : it->second;
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
    case Code::kOutOfRange: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists:
    case Code::kAborted: return 409;
    case Code::kCompacted: return 410;
    case Code::kResourceExhausted: return 429;
    case Code::kUnimplemented: return 501;
    case Code::kUnavailable:
    case Code::kLogUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    case Code::kCorruption:
    case Code::kIoError:
    case Code::kInternal: return 500;
  }
  return 500;
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

Response ErrorResponse(const Status& status, int http_status) {
  CL_CHECK(!status.ok(), "ErrorResponse needs an error");
  int hs = http_status != 0 ? http_status : HttpStatusFor(status.code());
  return Response::Json(hs, "{\"code\":" + JsonQuote(CodeName(status.code())) +
                                ",\"message\":" + JsonQuote(status.message()) +
                                ",\"http_status\":" + std::to_string(hs) + "}");
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (sink_) sink_->Respond(ErrorResponse(Internal("handler did not respond")));
    sink_ = std::move(other.sink_);
  }
  return *this;
}

Responder::~Responder() {
  if (sink_) sink_->Respond(ErrorResponse(Internal("handler did not respond")));
}

void Responder::Respond(Response response) {
  if (!sink_) return;
  auto sink = std::move(sink_);
  sink_.reset();
  sink->Respond(std::move(response));
}

std::shared_ptr<StreamWriter> Responder::StartStream(int status, std::string content_type) {
  if (!sink_) return nullptr;
  auto sink = std::move(sink_);
  sink_.reset();
  return sink->StartStream(status, std::move(content_type));
}

// ------------------------------------------------------------------ router

bool PercentDecode(std::string_view s, bool plus_is_space, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;  // needs two hex digits after '%'
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      *out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      *out += ' ';
    } else {
      *out += s[i];
    }
  }
  return true;
}

bool ParseQuery(std::string_view query, std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  size_t i = 0;
  while (!query.empty()) {
    size_t amp = query.find('&', i);
    std::string_view part = query.substr(i, amp == std::string_view::npos ? std::string_view::npos : amp - i);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string k, v;
      if (!PercentDecode(part.substr(0, eq), true, &k)) return false;
      if (eq != std::string_view::npos && !PercentDecode(part.substr(eq + 1), true, &v)) return false;
      out->emplace_back(std::move(k), std::move(v));
    }
    if (amp == std::string_view::npos) break;
    i = amp + 1;
  }
  return true;
}

void Router::Handle(std::string method, std::string pattern, Handler handler) {
  CL_CHECK(!pattern.empty() && pattern[0] == '/', "route pattern must start with '/'");
  std::vector<Segment> segments;
  for (std::string_view seg : SplitPath(pattern)) {
    bool capture = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    std::string_view text = capture ? seg.substr(1, seg.size() - 2) : seg;
    CL_CHECK(!capture || (!text.empty() && text.find_first_of("{}/") == std::string_view::npos),
             "malformed capture in route pattern");
    CL_CHECK(capture || seg.find_first_of("{}") == std::string_view::npos,
             "braces in a literal route segment");
    segments.push_back({capture, std::string(text)});
  }
  CL_CHECK(segments.size() <= kMaxSegments, "route pattern has too many segments");
  auto it = std::find_if(routes_.begin(), routes_.end(), [&](const Route& r) { return r.pattern == pattern; });
  if (it == routes_.end()) {
    routes_.push_back({pattern, std::move(segments), {}});
    it = routes_.end() - 1;
  }
  CL_CHECK(!it->handlers.contains(method), "duplicate route");
  it->handlers.emplace(std::move(method), std::move(handler));
}

namespace {

// True if `a` has a literal segment where `b` has a capture, at the first
// position where they differ (same segment count): "literal-first wins".
template <typename Route>
bool MoreLiteral(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].capture != b.segments[i].capture) return !a.segments[i].capture;
  }
  return false;
}

}  // namespace

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  // Split without allocating: no route has more than kMaxSegments segments
  // (Handle checks), so a longer path matches nothing.
  std::array<std::string_view, kMaxSegments> parts;
  size_t n = 0;
  if (path.empty() || path[0] != '/') return Match{};
  for (size_t i = 1;;) {
    if (n == kMaxSegments) return Match{};
    size_t j = path.find('/', i);
    parts[n++] = path.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    if (r.segments.size() != n) continue;
    bool ok = true;
    for (size_t i = 0; i < n && ok; ++i)
      ok = r.segments[i].capture ? !parts[i].empty() : r.segments[i].text == parts[i];
    if (ok && (best == nullptr || MoreLiteral(r, *best))) best = &r;
  }
  Match m;
  if (best == nullptr) return m;
  auto h = best->handlers.find(method);
  if (h == best->handlers.end()) {
    m.kind = Match::kMethodNotAllowed;
    for (const auto& [meth, unused] : best->handlers) m.allowed.push_back(meth);
    return m;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!best->segments[i].capture) continue;
    std::string decoded;
    if (!PercentDecode(parts[i], false, &decoded)) return Match{};  // malformed: not found
    m.params[best->segments[i].text] = std::move(decoded);
  }
  m.kind = Match::kFound;
  m.handler = &h->second;
  m.pattern = best->pattern;
  return m;
}

std::vector<std::pair<std::string, std::string>> Router::Registered() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& r : routes_)
    for (const auto& [method, handler] : r.handlers) out.emplace_back(method, r.pattern);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cl::node::http
