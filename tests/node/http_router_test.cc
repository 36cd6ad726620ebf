// Router, error mapping, Responder and protobuf bodies: pure, no sockets.
#include "node/http/router.h"

#include <gtest/gtest.h>

#include "node/http/proto_body.h"
#include "proto/raft.pb.h"

namespace cl::node::http {
namespace {

Handler Named(std::string* called, std::string name) {
  return [called, name](Request, Responder r) {
    *called = name;
    r.Respond(Response::Text(200, name));
  };
}

TEST(RouterTest, MatchesPatternsMethodsAndCaptures) {
  std::string called;
  Router router;
  router.Handle("GET", "/v1/blocks/{height}", Named(&called, "block"));
  router.Handle("GET", "/v1/blocks/latest", Named(&called, "latest"));
  router.Handle("POST", "/v1/transactions", Named(&called, "submit"));
  router.Handle("GET", "/v1/transactions/{id}", Named(&called, "tx"));
  router.Handle("GET", "/v1/holders/{ref}/access-log", Named(&called, "log"));
  router.Handle("GET", "/healthz", Named(&called, "health"));

  struct Case {
    const char* name;
    const char* method;
    const char* path;
    Router::Match::Kind kind;
    const char* pattern;
    std::map<std::string, std::string> params;
  };
  const Case cases[] = {
      {"capture", "GET", "/v1/blocks/7", Router::Match::kFound, "/v1/blocks/{height}", {{"height", "7"}}},
      {"literal_beats_capture", "GET", "/v1/blocks/latest", Router::Match::kFound, "/v1/blocks/latest", {}},
      {"decoded_capture", "GET", "/v1/transactions/a%2Fb%20c", Router::Match::kFound, "/v1/transactions/{id}", {{"id", "a/b c"}}},
      {"inner_capture", "GET", "/v1/holders/abc/access-log", Router::Match::kFound, "/v1/holders/{ref}/access-log", {{"ref", "abc"}}},
      {"root_literal", "GET", "/healthz", Router::Match::kFound, "/healthz", {}},
      {"wrong_method", "DELETE", "/v1/transactions", Router::Match::kMethodNotAllowed, "", {}},
      {"unknown", "GET", "/v2/blocks/7", Router::Match::kNotFound, "", {}},
      {"too_long", "GET", "/v1/blocks/7/extra", Router::Match::kNotFound, "", {}},
      {"empty_capture", "GET", "/v1/blocks/", Router::Match::kNotFound, "", {}},
      {"trailing_slash", "GET", "/healthz/", Router::Match::kNotFound, "", {}},
      {"bad_escape", "GET", "/v1/transactions/%zz", Router::Match::kNotFound, "", {}},
  };
  for (const auto& c : cases) {
    auto m = router.Find(c.method, c.path);
    EXPECT_EQ(m.kind, c.kind) << c.name;
    if (c.kind == Router::Match::kFound) {
      EXPECT_EQ(m.pattern, c.pattern) << c.name;
      EXPECT_EQ(m.params, c.params) << c.name;
    }
  }
  router.Handle("PUT", "/v1/transactions", Named(&called, "put"));
  EXPECT_EQ(router.Find("DELETE", "/v1/transactions").allowed, (std::vector<std::string>{"POST", "PUT"}));
}

TEST(RouterDeathTest, MalformedOrDuplicateRoutesCrash) {
  Router router;
  router.Handle("GET", "/a/{x}", [](Request, Responder) {});
  EXPECT_DEATH(router.Handle("GET", "/a/{x}", [](Request, Responder) {}), "duplicate route");
  EXPECT_DEATH(router.Handle("GET", "no-slash", [](Request, Responder) {}), "must start");
  EXPECT_DEATH(router.Handle("GET", "/a/{}", [](Request, Responder) {}), "malformed capture");
}

TEST(QueryTest, ParsesAndDecodes) {
  std::vector<std::pair<std::string, std::string>> q;
  ASSERT_TRUE(ParseQuery("proof=true&x=a%20b&y=c+d&flag&&z=", &q));
  EXPECT_EQ(q, (std::vector<std::pair<std::string, std::string>>{
                   {"proof", "true"}, {"x", "a b"}, {"y", "c d"}, {"flag", ""}, {"z", ""}}));
  EXPECT_FALSE(ParseQuery("x=%4", &q));
  EXPECT_FALSE(ParseQuery("x=%g0", &q));
}

TEST(ErrorsTest, CodesMapToStableHttpStatuses) {
  const std::pair<Code, int> cases[] = {
      {Code::kInvalidArgument, 400}, {Code::kFailedPrecondition, 400}, {Code::kOutOfRange, 400},
      {Code::kUnauthenticated, 401}, {Code::kPermissionDenied, 403},   {Code::kNotFound, 404},
      {Code::kAlreadyExists, 409},   {Code::kAborted, 409},            {Code::kCompacted, 410},
      {Code::kResourceExhausted, 429}, {Code::kUnimplemented, 501},    {Code::kUnavailable, 503},
      {Code::kLogUnavailable, 503},  {Code::kDeadlineExceeded, 504},   {Code::kInternal, 500},
      {Code::kCorruption, 500},      {Code::kIoError, 500},
  };
  for (auto [code, status] : cases) EXPECT_EQ(HttpStatusFor(code), status) << CodeName(code);
  Response r = ErrorResponse(NotFound("block \"7\"\n"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"code":"NOT_FOUND","message":"block \"7\"\n","http_status":404})");
  EXPECT_EQ(ErrorResponse(ResourceExhausted("too big"), 413).body,
            R"({"code":"RESOURCE_EXHAUSTED","message":"too big","http_status":413})");
}

// A sink that records what the Responder delivered.
class FakeSink : public ResponseSink {
 public:
  void Respond(Response r) override { responses.push_back(std::move(r)); }
  std::shared_ptr<StreamWriter> StartStream(int, std::string) override { return nullptr; }
  std::vector<Response> responses;
};

TEST(ResponderTest, AnswersOnceAndA500WhenDropped) {
  auto sink = std::make_shared<FakeSink>();
  {
    Responder r(sink);
    r.Respond(Response::Text(200, "first"));
    r.Respond(Response::Text(200, "second"));  // ignored
    EXPECT_TRUE(r.used());
  }
  { Responder forgotten(sink); }
  ASSERT_EQ(sink->responses.size(), 2u);
  EXPECT_EQ(sink->responses[0].body, "first");
  EXPECT_EQ(sink->responses[1].status, 500);
  EXPECT_NE(sink->responses[1].body.find("INTERNAL"), std::string::npos);
}

TEST(ProtoBodyTest, ParsesByContentTypeWithClearErrors) {
  certledger::raft::HardState hs;
  hs.set_term(3);
  hs.set_vote(2);
  struct Case { const char* name; const char* type; std::string body; int want_status; };  // 0 = ok
  const Case cases[] = {
      {"json", "application/json", R"({"term":"3","vote":"2"})", 0},
      {"json_charset", "Application/JSON; charset=utf-8", R"({"term":3,"vote":2})", 0},
      {"no_type_is_json", nullptr, R"({"term":"3","vote":"2"})", 0},
      {"binary", "application/x-protobuf", hs.SerializeAsString(), 0},
      {"unknown_field", "application/json", R"({"term":"3","bogus":1})", 400},
      {"bad_json", "application/json", "{term:", 400},
      {"empty", "application/json", "", 400},
      {"bad_binary", "application/x-protobuf", "\xff\xff\xff", 400},
      {"empty_binary", "application/x-protobuf", "", 400},
      {"form", "application/x-www-form-urlencoded", "term=3", 415},
  };
  for (const auto& c : cases) {
    Request req;
    if (c.type) req.headers.push_back({"content-type", c.type});
    req.body = c.body;
    certledger::raft::HardState out;
    auto err = ParseBody(req, &out);
    if (c.want_status == 0) {
      EXPECT_FALSE(err.has_value()) << c.name << ": " << (err ? err->body : "");
      EXPECT_EQ(out.term(), 3u) << c.name;
    } else {
      ASSERT_TRUE(err.has_value()) << c.name;
      EXPECT_EQ(err->status, c.want_status) << c.name << ": " << err->body;
      EXPECT_NE(err->body.find("\"code\":\"INVALID_ARGUMENT\""), std::string::npos) << c.name;
    }
  }
}

TEST(ProtoBodyTest, ResponseHonoursAccept) {
  certledger::raft::HardState hs;
  hs.set_term(3);
  Request json_req;
  Response j = ProtoResponse(json_req, hs);
  EXPECT_EQ(j.content_type, "application/json");
  EXPECT_EQ(j.body, R"({"term":"3"})");
  Request bin_req;
  bin_req.headers.push_back({"accept", "application/x-protobuf"});
  Response b = ProtoResponse(bin_req, hs, 201);
  EXPECT_EQ(b.status, 201);
  EXPECT_EQ(b.content_type, "application/x-protobuf");
  EXPECT_EQ(b.body, hs.SerializeAsString());
}

}  // namespace
}  // namespace cl::node::http
