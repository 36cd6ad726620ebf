// The HTTP server over real 127.0.0.1 sockets.
#include "node/http/server.h"

#include <gtest/gtest.h>

#include <thread>

#include "node/metrics.h"
#include "tests/node/test_sockets.h"

namespace cl::node::http {
namespace {

using cl::testing::RawSocket;
using cl::testing::WaitFor;
using namespace std::chrono_literals;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Reads one response from `s` (Content-Length or chunked body). status 0 if
// the connection closed or timed out first.
Reply ReadReply(RawSocket& s, std::chrono::milliseconds timeout = 5s) {
  Reply r;
  std::string head, c;
  while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
    if (!s.ReadExact(1, &c, timeout)) return r;
    head += c;
  }
  std::istringstream is(head);
  std::string line;
  std::getline(is, line);
  r.status = std::stoi(line.substr(9, 3));
  while (std::getline(is, line) && line != "\r") {
    auto colon = line.find(':');
    std::string k = line.substr(0, colon), v = line.substr(colon + 2);
    if (!v.empty() && v.back() == '\r') v.pop_back();
    for (char& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.headers[k] = v;
  }
  if (r.headers.contains("content-length")) {
    s.ReadExact(std::stoul(r.headers["content-length"]), &r.body, timeout);
  } else if (r.headers["transfer-encoding"] == "chunked") {
    for (;;) {
      std::string size_line;
      while (size_line.size() < 2 || size_line.compare(size_line.size() - 2, 2, "\r\n") != 0) {
        if (!s.ReadExact(1, &c, timeout)) return r;
        size_line += c;
      }
      size_t n = std::stoul(size_line, nullptr, 16);
      std::string data, crlf;
      if (n > 0 && !s.ReadExact(n, &data, timeout)) return r;
      s.ReadExact(2, &crlf, timeout);
      if (n == 0) break;
      r.body += data;
    }
  }
  return r;
}

Reply Call(uint16_t port, const std::string& raw) {
  RawSocket s(port);
  s.Write(raw);
  return ReadReply(s);
}

std::string Get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(Router router, HttpLimits limits = {}) {
    auto s = HttpServer::Create({.listen_address = "127.0.0.1:0",
                                 .io_threads = 2,
                                 .limits = limits,
                                 .log = Logger::Null(),
                                 .metrics = &metrics_},
                                std::move(router));
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    server_->Start();
    port_ = server_->port();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    for (auto& t : threads_) t.join();
  }
  static Router EchoRouter() {
    Router r;
    r.Handle("GET", "/v1/blocks/{height}", [](Request req, Responder resp) {
      const std::string* proof = req.Query("proof");
      resp.Respond(Response::Json(200, "{\"height\":\"" + req.Param("height") + "\",\"proof\":\"" +
                                           (proof ? *proof : "") + "\",\"route\":\"" + req.route + "\"}"));
    });
    r.Handle("GET", "/v1/blocks/latest", [](Request, Responder resp) { resp.Respond(Response::Text(200, "latest")); });
    r.Handle("POST", "/v1/transactions", [](Request req, Responder resp) {
      resp.Respond(Response::Text(201, "got " + std::to_string(req.body.size()) + " bytes"));
    });
    r.Handle("PUT", "/v1/transactions", [](Request, Responder resp) { resp.Respond(Response::Text(200, "put")); });
    return r;
  }

  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

TEST_F(HttpServerTest, RoutesWithParamsAndQuery) {
  StartServer(EchoRouter());
  Reply r = Call(port_, Get("/v1/blocks/42?proof=true&x=1"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body, R"({"height":"42","proof":"true","route":"/v1/blocks/{height}"})");
  EXPECT_EQ(Call(port_, Get("/v1/blocks/latest")).body, "latest");
  Reply post = Call(port_, "POST /v1/transactions HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(post.status, 201);
  EXPECT_EQ(post.body, "got 5 bytes");
}

TEST_F(HttpServerTest, UnknownRoute404AndWrongMethod405WithAllow) {
  StartServer(EchoRouter());
  Reply nf = Call(port_, Get("/nope"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body, R"({"code":"NOT_FOUND","message":"no route for /nope","http_status":404})");
  Reply na = Call(port_, "DELETE /v1/transactions HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.headers["allow"], "POST, PUT");
  EXPECT_NE(na.body.find("\"http_status\":405"), std::string::npos);
}

TEST_F(HttpServerTest, LimitsAnswerWithTheirStatus) {
  HttpLimits lim;
  lim.max_body_bytes = 1024;
  lim.max_header_bytes = 2048;
  lim.max_url_bytes = 256;
  StartServer(EchoRouter(), lim);
  struct Case { const char* name; std::string raw; int want; };
  const Case cases[] = {
      {"body_declared_too_big", "POST /v1/transactions HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n", 413},
      {"chunked_body_too_big",
       "POST /v1/transactions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
           std::string(2048, 'x') + "\r\n0\r\n\r\n", 413},
      {"headers_too_big", Get("/v1/blocks/1", "X-Big: " + std::string(4000, 'a') + "\r\n"), 431},
      {"url_too_long", Get("/v1/blocks/" + std::string(300, '1')), 414},
      {"body_at_limit", "POST /v1/transactions HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n" +
           std::string(1024, 'x'), 201},
  };
  for (const auto& c : cases) {
    Reply r = Call(port_, c.raw);
    EXPECT_EQ(r.status, c.want) << c.name << ": " << r.body;
    if (c.want >= 400) {
      EXPECT_EQ(r.headers["connection"], "close") << c.name;
    }
  }
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndDoNotHurt) {
  StartServer(EchoRouter());
  const std::string cases[] = {
      "HELLO\r\n\r\n",
      "GET /v1/blocks/1 HTTP/9.9\r\n\r\n",
      "GET /v1/blocks/1 HTTP/1.1\r\nBad Header Line\r\n\r\n",
      "GET http://x/abs HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /v1/blocks/1?x=%zz HTTP/1.1\r\nHost: t\r\n\r\n",
      "POST /v1/transactions HTTP/1.1\r\nHost: t\r\nContent-Length: 12x\r\n\r\n",
      std::string("\x00\x01\x02\xff\r\n\r\n", 8),
  };
  for (const auto& c : cases) {
    Reply r = Call(port_, c);
    EXPECT_EQ(r.status, 400) << ::testing::PrintToString(c) << " -> " << r.body;
  }
  EXPECT_EQ(Call(port_, Get("/v1/blocks/latest")).status, 200);
}

// The response head is written by the server itself (not Beast's
// serializer): the status line with its reason, Server, Content-Type, the
// handler's extra headers, Content-Length, and Connection as HTTP/1.1 and
// HTTP/1.0 clients expect it.
TEST_F(HttpServerTest, ResponseHeadsCarryTheFieldsAndConnectionSemanticsOfEachHttpVersion) {
  Router router = EchoRouter();
  router.Handle("GET", "/busy", [](Request, Responder resp) {
    Response r = Response::Json(429, "{}");
    r.headers.emplace_back("Retry-After", "1");
    resp.Respond(std::move(r));
  });
  StartServer(std::move(router));
  struct Case {
    const char* name;
    std::string request;
    std::string status_line;
    std::string content_type;
    std::string connection;  // "" = no Connection field
    bool stays_open;
    std::string retry_after;
  };
  const Case cases[] = {
      {"1.1 keep-alive", Get("/v1/blocks/latest"), "HTTP/1.1 200 OK", "text/plain; charset=utf-8", "", true, ""},
      {"1.1 close", Get("/v1/blocks/latest", "Connection: close\r\n"), "HTTP/1.1 200 OK",
       "text/plain; charset=utf-8", "close", false, ""},
      {"1.0 default close", "GET /v1/blocks/latest HTTP/1.0\r\nHost: t\r\n\r\n", "HTTP/1.0 200 OK",
       "text/plain; charset=utf-8", "", false, ""},
      {"1.0 keep-alive", "GET /v1/blocks/latest HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n",
       "HTTP/1.0 200 OK", "text/plain; charset=utf-8", "keep-alive", true, ""},
      {"extra header and reason", Get("/busy"), "HTTP/1.1 429 Too Many Requests", "application/json", "", true, "1"},
      {"unknown route", Get("/nothing"), "HTTP/1.1 404 Not Found", "application/json", "", true, ""},
  };
  for (const Case& c : cases) {
    RawSocket s(port_);
    ASSERT_TRUE(s.Write(c.request)) << c.name;
    std::string head, ch;
    while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
      ASSERT_TRUE(s.ReadExact(1, &ch, 5s)) << c.name;
      head += ch;
    }
    EXPECT_EQ(head.substr(0, head.find("\r\n")), c.status_line) << c.name;
    auto field = [&](const std::string& name) -> std::string {
      const size_t at = head.find("\r\n" + name + ": ");
      if (at == std::string::npos) return "";
      const size_t from = at + 4 + name.size();
      return head.substr(from, head.find("\r\n", from) - from);
    };
    EXPECT_EQ(field("Server"), "certledger") << c.name;
    EXPECT_EQ(field("Content-Type"), c.content_type) << c.name;
    EXPECT_EQ(field("Connection"), c.connection) << c.name;
    EXPECT_EQ(field("Retry-After"), c.retry_after) << c.name;
    std::string body;
    ASSERT_TRUE(s.ReadExact(std::stoul(field("Content-Length")), &body, 5s)) << c.name;
    if (c.stays_open) {
      ASSERT_TRUE(s.Write(Get("/v1/blocks/latest"))) << c.name;
      EXPECT_EQ(ReadReply(s).body, "latest") << c.name;
    } else {
      EXPECT_TRUE(s.ClosedByPeer(2s)) << c.name;
    }
  }
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer(EchoRouter());
  RawSocket s(port_);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.Write(Get("/v1/blocks/" + std::to_string(i))));
    Reply r = ReadReply(s);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"height\":\"" + std::to_string(i) + "\""), std::string::npos);
  }
  // Pipelined: two requests in one write, two answers in order.
  ASSERT_TRUE(s.Write(Get("/v1/blocks/7") + Get("/v1/blocks/latest")));
  EXPECT_NE(ReadReply(s).body.find("\"7\""), std::string::npos);
  EXPECT_EQ(ReadReply(s).body, "latest");
  // Connection: close is honoured.
  ASSERT_TRUE(s.Write(Get("/v1/blocks/latest", "Connection: close\r\n")));
  Reply last = ReadReply(s);
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.headers["connection"], "close");
  EXPECT_TRUE(s.ClosedByPeer(2s));
}

TEST_F(HttpServerTest, SlowlorisAndIdleClientsAreCutOff) {
  HttpLimits lim;
  lim.read_header_timeout_ms = 300;
  lim.idle_timeout_ms = 300;
  StartServer(EchoRouter(), lim);
  // Headers dripped one byte every 50 ms never finish within 300 ms.
  RawSocket slow(port_);
  std::string req = Get("/v1/blocks/1", "X-Pad: " + std::string(100, 'a') + "\r\n");
  auto start = std::chrono::steady_clock::now();
  bool cut = false;
  for (char ch : req) {
    if (!slow.Write(std::string(1, ch))) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
    if (std::chrono::steady_clock::now() - start > 3s) break;
  }
  Reply r = ReadReply(slow, 2s);
  EXPECT_TRUE(cut || r.status == 408) << r.status;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // A connection that never sends anything is closed after the idle timeout.
  RawSocket idle(port_);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.ClosedByPeer(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_F(HttpServerTest, ASilentNewConnectionGetsOnlyTheHeaderDeadline) {
  // Sockets that never send a byte must not hold a connection slot for the
  // keep-alive idle time (an idle flood would lock correct clients out).
  HttpLimits lim;
  lim.read_header_timeout_ms = 300;
  lim.idle_timeout_ms = 20'000;
  StartServer(EchoRouter(), lim);
  RawSocket silent(port_);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.ClosedByPeer(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  // A keep-alive connection that was served keeps the idle timeout.
  RawSocket kept(port_);
  ASSERT_TRUE(kept.Write(Get("/v1/blocks/latest")));
  EXPECT_EQ(ReadReply(kept).status, 200);
  EXPECT_FALSE(kept.ClosedByPeer(1s));
}

TEST_F(HttpServerTest, ConnectionCapAnswers503) {
  HttpLimits lim;
  lim.max_connections = 2;
  StartServer(EchoRouter(), lim);
  RawSocket a(port_), b(port_);
  ASSERT_TRUE(a.Write(Get("/v1/blocks/latest")));
  ASSERT_TRUE(b.Write(Get("/v1/blocks/latest")));
  EXPECT_EQ(ReadReply(a).status, 200);  // both held open by keep-alive
  EXPECT_EQ(ReadReply(b).status, 200);
  RawSocket c(port_);
  Reply r = ReadReply(c);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("UNAVAILABLE"), std::string::npos);
  a.Close();
  // Once a slot frees up, new connections are served again.
  EXPECT_TRUE(WaitFor([&] { return Call(port_, Get("/v1/blocks/latest")).status == 200; }, 5s));
  EXPECT_GE(metrics_.GetCounter("certledger_http_connections_rejected_total", "").value(), 1u);
}

TEST_F(HttpServerTest, AsyncHandlersAnswerFromAnotherThreadOrTimeOut) {
  HttpLimits lim;
  lim.handler_timeout_ms = 300;
  Router r;
  std::mutex mu;
  std::vector<Responder> parked;
  r.Handle("GET", "/async", [this](Request, Responder resp) {
    threads_.emplace_back([resp = std::move(resp)]() mutable {
      std::this_thread::sleep_for(50ms);
      resp.Respond(Response::Text(200, "later"));
    });
  });
  r.Handle("GET", "/never", [&](Request, Responder resp) {
    std::lock_guard lock(mu);
    parked.push_back(std::move(resp));  // never answered
  });
  r.Handle("GET", "/dropped", [](Request, Responder) {});
  r.Handle("GET", "/error", [](Request, Responder resp) { resp.Error(PermissionDenied("not your data")); });
  StartServer(std::move(r), lim);
  Reply a = Call(port_, Get("/async"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "later");
  Reply n = Call(port_, Get("/never"));
  EXPECT_EQ(n.status, 504);
  EXPECT_NE(n.body.find("DEADLINE_EXCEEDED"), std::string::npos);
  EXPECT_EQ(Call(port_, Get("/dropped")).status, 500);
  Reply e = Call(port_, Get("/error"));
  EXPECT_EQ(e.status, 403);
  EXPECT_EQ(e.body, R"({"code":"PERMISSION_DENIED","message":"not your data","http_status":403})");
  std::lock_guard lock(mu);
  for (auto& p : parked) p.Respond(Response::Text(200, "too late"));  // ignored, no crash
}

TEST_F(HttpServerTest, StreamsChunkedEventsFromAnotherThread) {
  Router r;
  r.Handle("GET", "/v1/events", [this](Request, Responder resp) {
    auto w = resp.StartStream(200, "text/event-stream");
    threads_.emplace_back([w] {
      for (int i = 1; i <= 3; ++i) {
        EXPECT_TRUE(w->Write("data: block " + std::to_string(i) + "\n\n"));
        std::this_thread::sleep_for(20ms);
      }
      w->Close();
      EXPECT_FALSE(w->Write("after close"));
    });
  });
  StartServer(std::move(r));
  RawSocket s(port_);
  ASSERT_TRUE(s.Write(Get("/v1/events")));
  Reply reply = ReadReply(s);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers["content-type"], "text/event-stream");
  EXPECT_EQ(reply.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(reply.body, "data: block 1\n\ndata: block 2\n\ndata: block 3\n\n");
  EXPECT_TRUE(s.ClosedByPeer(2s));
}

TEST_F(HttpServerTest, StreamNoticesClientGoneAndSlowConsumer) {
  HttpLimits lim;
  lim.max_stream_buffer_bytes = 64 << 10;
  std::shared_ptr<StreamWriter> writer;
  std::mutex mu;
  Router r;
  r.Handle("GET", "/v1/events", [&](Request, Responder resp) {
    std::lock_guard lock(mu);
    writer = resp.StartStream();
  });
  StartServer(std::move(r), lim);
  {
    RawSocket s(port_);
    ASSERT_TRUE(s.Write(Get("/v1/events")));
    ASSERT_TRUE(WaitFor([&] { std::lock_guard lock(mu); return writer != nullptr; }));
  }  // the client goes away
  EXPECT_TRUE(WaitFor([&] { std::lock_guard lock(mu); return writer->closed(); }, 5s));
  // A client that never reads: writes eventually fail instead of buffering forever.
  RawSocket slow(port_);
  {
    std::lock_guard lock(mu);
    writer.reset();
  }
  ASSERT_TRUE(slow.Write(Get("/v1/events")));
  ASSERT_TRUE(WaitFor([&] { std::lock_guard lock(mu); return writer != nullptr; }));
  std::shared_ptr<StreamWriter> w;
  {
    std::lock_guard lock(mu);
    w = writer;
  }
  bool refused = false;
  for (int i = 0; i < 10000 && !refused; ++i) refused = !w->Write(std::string(16 << 10, 'x'));
  EXPECT_TRUE(refused);
  EXPECT_TRUE(w->closed());
}

TEST_F(HttpServerTest, RecordsPerRouteMetrics) {
  StartServer(EchoRouter());
  Call(port_, Get("/v1/blocks/1"));
  Call(port_, Get("/v1/blocks/2"));
  Call(port_, Get("/nope"));
  std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("certledger_http_requests_total{method=\"GET\",route=\"/v1/blocks/{height}\",status=\"200\"} 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find("certledger_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"),
            std::string::npos) << text;
  EXPECT_NE(text.find("certledger_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/blocks/{height}\",status=\"200\"} 2"),
            std::string::npos) << text;
}

// Methods a client makes up share one label value: they cannot grow the
// metrics without bound.
TEST_F(HttpServerTest, InventedMethodsShareOneMetricSeries) {
  StartServer(EchoRouter());
  for (int i = 0; i < 20; ++i)
    Call(port_, "BREW" + std::to_string(i) + " /v1/blocks/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_EQ(text.find("BREW"), std::string::npos) << text;
  EXPECT_NE(text.find("certledger_http_requests_total{method=\"other\""), std::string::npos) << text;
}

TEST_F(HttpServerTest, GracefulStopFinishesInFlightRequests) {
  Router r;
  r.Handle("GET", "/slow", [this](Request, Responder resp) {
    threads_.emplace_back([resp = std::move(resp)]() mutable {
      std::this_thread::sleep_for(300ms);
      resp.Respond(Response::Text(200, "finished"));
    });
  });
  r.Handle("GET", "/fast", [](Request, Responder resp) { resp.Respond(Response::Text(200, "fast")); });
  StartServer(std::move(r));
  RawSocket idle(port_);
  ASSERT_TRUE(idle.Write(Get("/fast")));
  ASSERT_EQ(ReadReply(idle).status, 200);  // now an idle keep-alive connection
  RawSocket inflight(port_);
  ASSERT_TRUE(inflight.Write(Get("/slow")));
  std::this_thread::sleep_for(50ms);
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  Reply done = ReadReply(inflight);
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(done.body, "finished");
  EXPECT_EQ(done.headers["connection"], "close");
  EXPECT_TRUE(idle.ClosedByPeer(1s));
  RawSocket after(port_);
  EXPECT_FALSE(after.connected() && ReadReply(after, 500ms).status != 0);
}

TEST_F(HttpServerTest, CreateRejectsBadOptions) {
  HttpLimits zero;
  zero.max_body_bytes = 0;
  auto a = HttpServer::Create({.listen_address = "127.0.0.1:0", .limits = zero, .log = Logger::Null()}, Router());
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("max_body_bytes"), std::string::npos);
  auto b = HttpServer::Create({.listen_address = "not-an-address", .log = Logger::Null()}, Router());
  EXPECT_FALSE(b.ok());
  StartServer(EchoRouter());
  auto busy = HttpServer::Create({.listen_address = "127.0.0.1:" + std::to_string(port_), .log = Logger::Null()}, Router());
  EXPECT_EQ(busy.status().code(), Code::kIoError);
}

}  // namespace
}  // namespace cl::node::http
