// HTTP abuse against a real certledger-node process (issue 8, "Hostile
// input"): oversized bodies, headers and URLs, malformed and truncated
// requests, slowloris, thousands of idle connections, bad and missing
// signatures on private reads. Throughout, a correct client keeps asking
// /v1/status; the node must stay up, answer it (its latency is printed), and
// keep its memory bounded (VmRSS before/after is printed and checked).
//
// tests/node/http_server_test.cc covers each limit in-process on a bare
// HttpServer; these go further: the real daemon, floods and mixes, the
// correct client measured during the abuse, memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "base/bytes.h"
#include "crypto/domain.h"
#include "crypto/suite.h"
#include "tests/abuse/abuse_harness.h"

namespace cl::abuse {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Short timeouts so slowloris and idle floods resolve within the test.
std::string HttpToml(int, const AbuseNetwork&) {
  return "[http]\nidle_timeout_ms = 3000\nread_header_timeout_ms = 2000\nrequest_timeout_ms = 3000\n";
}

// A correct client polling GET /v1/status on its own thread; records the
// latency and the status of every answer.
class CorrectClient {
 public:
  explicit CorrectClient(std::string url) : url_(std::move(url)), thread_([this] { Run(); }) {}
  ~CorrectClient() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  struct Summary {
    size_t requests = 0, ok = 0, unavailable = 0, failed = 0;
    double p50_ms = 0, p99_ms = 0, max_ms = 0;
  };
  Summary Summarize() {
    std::lock_guard l(mu_);
    Summary s;
    s.requests = lat_.size();
    s.ok = ok_;
    s.unavailable = unavailable_;
    s.failed = failed_;
    auto v = lat_;
    std::sort(v.begin(), v.end());
    if (!v.empty()) {
      s.p50_ms = v[v.size() / 2];
      s.p99_ms = v[std::min(v.size() - 1, v.size() * 99 / 100)];
      s.max_ms = v.back();
    }
    return s;
  }

 private:
  void Run() {
    while (!stop_) {
      const auto t0 = Clock::now();
      auto r = client::HttpRequest(url_, "GET", "/v1/status", "", "application/json", {.timeout_ms = 5000});
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      {
        std::lock_guard l(mu_);
        lat_.push_back(ms);
        if (!r.ok()) ++failed_;
        else if (r->status == 200) ++ok_;
        else if (r->status == 503) ++unavailable_;
        else ++failed_;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  std::string url_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<double> lat_;
  size_t ok_ = 0, unavailable_ = 0, failed_ = 0;
  std::thread thread_;
};

void Print(const char* what, const CorrectClient::Summary& s, uint64_t rss_before, uint64_t rss_after) {
  std::printf("[abuse] %s: correct client %zu requests, %zu ok, %zu 503, %zu failed; latency p50 %.1f ms "
              "p99 %.1f ms max %.1f ms; node VmRSS %llu KiB -> %llu KiB\n",
              what, s.requests, s.ok, s.unavailable, s.failed, s.p50_ms, s.p99_ms, s.max_ms,
              static_cast<unsigned long long>(rss_before), static_cast<unsigned long long>(rss_after));
  std::fflush(stdout);
}

class HttpAbuseTest : public ::testing::Test {
 protected:
  HttpAbuseTest() : net_(3, HttpToml) {}
  void SetUp() override {
    ASSERT_TRUE(net_.init_ok()) << net_.init_output();
    ASSERT_TRUE(net_.WaitReady()) << "the network did not become ready";
  }
  // Sends `request` on a new connection and returns the raw response.
  std::string Exchange(const std::string& request, milliseconds timeout = milliseconds(5000)) {
    int fd = Dial(net_.http_port(1));
    if (fd < 0) return "";
    (void)SendAll(fd, request);
    std::string r = ReadSome(fd, timeout);
    ::close(fd);
    return r;
  }
  AbuseNetwork net_;
};

TEST_F(HttpAbuseTest, OversizedAndMalformedRequestsGetClearErrorsWhileACorrectClientIsServed) {
  const uint64_t rss_before = RssKiB(net_.pid(1));
  CorrectClient good(net_.url(1));
  struct Case {
    const char* name;
    std::string request;
    int want;  // expected status; 0 = the connection is just closed
  };
  const std::string big(2u << 20, 'x');
  const std::vector<Case> cases = {
      {"body over the limit (declared)",
       "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n",
       413},
      {"body over the limit (sent)",
       "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(big.size()) + "\r\n\r\n" + big,
       413},
      {"chunked body over the limit",
       "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n" + big, 413},
      {"headers over the limit", "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 << 10, 'h') + "\r\n\r\n",
       431},
      {"many headers", [] {
         std::string r = "GET /v1/status HTTP/1.1\r\nHost: x\r\n";
         for (int i = 0; i < 3000; ++i) r += "X-" + std::to_string(i) + ": v\r\n";
         return r + "\r\n";
       }(), 431},
      {"URL over the limit", "GET /v1/blocks/" + std::string(8192, '1') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"garbage request line", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n", 400},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
      {"bad chunk size", "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"NUL in header", std::string("GET /v1/status HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 42), 400},
      {"target not a path", "GET http//x HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"bad percent escape", "GET /v1/services?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"undecodable JSON body",
       "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"body\":}",
       400},
      {"wrong content type",
       "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 2\r\n\r\n<a",
       415},
  };
  for (const Case& c : cases) {
    const std::string r = Exchange(c.request);
    EXPECT_EQ(StatusOf(r), c.want) << c.name << ": " << r.substr(0, 200);
    if (c.want >= 400) {
      EXPECT_NE(r.find("\"code\""), std::string::npos) << c.name << ": no machine-readable code";
    }
  }
  // Truncated requests: the client stops mid-way and closes; a hundred of each.
  for (int i = 0; i < 100; ++i) {
    for (const std::string& partial :
         {std::string("GET /v1/sta"), std::string("POST /v1/transactions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"b"),
          std::string("GET /v1/status HTTP/1.1\r\nHost: x\r\n")}) {
      int fd = Dial(net_.http_port(1));
      ASSERT_GE(fd, 0);
      (void)SendAll(fd, partial);
      ::close(fd);
    }
  }
  // Repeat the oversized bodies: memory must not grow with the number sent.
  for (int i = 0; i < 20; ++i) (void)Exchange(cases[1].request);
  std::this_thread::sleep_for(milliseconds(300));
  good.Stop();
  const auto s = good.Summarize();
  const uint64_t rss_after = RssKiB(net_.pid(1));
  Print("oversized+malformed", s, rss_before, rss_after);
  EXPECT_TRUE(net_.alive(1));
  EXPECT_GT(s.requests, 0u);
  EXPECT_EQ(s.ok, s.requests) << "the correct client was refused during the abuse";
  EXPECT_LT(s.max_ms, 2000.0) << "the correct client waited too long";
  EXPECT_LT(rss_after, rss_before + 64 * 1024) << "node memory grew by more than 64 MiB";
  EXPECT_TRUE(net_.Commit("after-http-abuse")) << net_.last_cli();
}

TEST_F(HttpAbuseTest, SlowlorisIsCutOffAndAnIdleFloodIsShedThenRecovered) {
  ASSERT_GE(RaiseFdLimit(), 4096u) << "the test needs file descriptors for 2500 connections";
  const uint64_t rss_before = RssKiB(net_.pid(1));
  // Slowloris: 50 clients each trickling one header byte every 300 ms.
  std::vector<int> slow;
  for (int i = 0; i < 50; ++i) {
    int fd = Dial(net_.http_port(1));
    ASSERT_GE(fd, 0);
    (void)SendAll(fd, "GET /v1/status HTTP/1.1\r\nX-Slow: ");
    slow.push_back(fd);
  }
  CorrectClient good(net_.url(1));
  const auto t0 = Clock::now();
  size_t slow_closed = 0;
  while (Clock::now() - t0 < milliseconds(4000)) {
    for (int& fd : slow) {
      if (fd < 0) continue;
      if (!SendAll(fd, "a")) {
        ::close(fd);
        fd = -1;
        ++slow_closed;
      }
    }
    std::this_thread::sleep_for(milliseconds(300));
  }
  for (int& fd : slow) {
    if (fd >= 0 && ClosedWithin(fd, milliseconds(100))) ++slow_closed;
    if (fd >= 0) ::close(fd);
  }
  EXPECT_EQ(slow_closed, slow.size()) << "slowloris connections outlived read_header_timeout_ms (2 s)";
  auto during_slow = good.Summarize();
  EXPECT_EQ(during_slow.ok, during_slow.requests) << "slowloris starved the correct client";

  // Idle flood: 2500 connections that never send a byte, far more than
  // max_connections (512).
  std::vector<int> idle;
  size_t refused_fast = 0;
  for (int i = 0; i < 2500; ++i) {
    int fd = Dial(net_.http_port(1));
    if (fd < 0) break;
    idle.push_back(fd);
  }
  EXPECT_EQ(idle.size(), 2500u);
  std::this_thread::sleep_for(milliseconds(500));
  // Connections over the limit get a 503 at once and are closed.
  for (size_t i = idle.size() - 100; i < idle.size(); ++i) {
    std::string r = ReadSome(idle[i], milliseconds(200));
    if (StatusOf(r) == 503) ++refused_fast;
  }
  EXPECT_EQ(refused_fast, 100u) << "connections over max_connections were not refused with 503";
  const auto flood = good.Summarize();
  // After idle_timeout_ms (3 s) the node drops the idle ones; the correct client is served again.
  std::this_thread::sleep_for(milliseconds(3500));
  const auto before_recovery = good.Summarize();
  std::this_thread::sleep_for(milliseconds(1500));
  good.Stop();
  const auto s = good.Summarize();
  size_t closed_by_node = 0;
  for (size_t i = 0; i < 412; ++i)
    if (ClosedWithin(idle[i], milliseconds(5))) ++closed_by_node;
  for (int fd : idle) ::close(fd);
  const uint64_t rss_after = RssKiB(net_.pid(1));
  Print("slowloris+idle flood", s, rss_before, rss_after);
  std::printf("[abuse] idle flood: %zu of the first 412 idle connections closed by the node; correct client "
              "during flood: %zu/%zu ok, %zu 503\n",
              closed_by_node, flood.ok - during_slow.ok, flood.requests - during_slow.requests,
              flood.unavailable - during_slow.unavailable);
  EXPECT_TRUE(net_.alive(1));
  EXPECT_EQ(s.failed, 0u) << "the correct client got no answer (or a wrong one) during the abuse";
  EXPECT_LT(s.max_ms, 2000.0) << "the correct client waited too long";
  EXPECT_EQ(closed_by_node, 412u) << "idle connections outlived idle_timeout_ms";
  EXPECT_GT(s.ok, before_recovery.ok) << "the correct client was not served again after the idle flood";
  EXPECT_LT(rss_after, rss_before + 64 * 1024);
  EXPECT_TRUE(net_.Commit("after-idle-flood")) << net_.last_cli();
}

// Private reads need a holder's (or an authorised department's) signature.
TEST_F(HttpAbuseTest, PrivateReadsRefuseMissingMalformedStaleAndForgedSignatures) {
  auto suite = *crypto::MakeSuite("ed25519-sha256");
  const crypto::KeyPair stranger = suite->GenerateKey();
  const std::string target = "/v1/holders/" + std::string(64, 'a') + "/certificates";
  const auto now_ms = [] {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
  };
  auto sign = [&](const std::string& ts, const std::string& tgt) {
    Bytes msg(crypto::kReadTag);
    msg += "GET\n" + tgt + "\n" + ts;
    return ToHex(*suite->Sign(stranger.secret_key, msg));
  };
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<int> want;
  };
  const std::string ts = now_ms();
  const std::vector<Case> cases = {
      {"no signature", {}, {401}},
      {"signer only", {{"X-Certledger-Signer", ToHex(stranger.public_key)}}, {401}},
      {"malformed hex",
       {{"X-Certledger-Signer", "zz"}, {"X-Certledger-Timestamp", ts}, {"X-Certledger-Signature", "zz"}},
       {401}},
      {"stale timestamp",
       {{"X-Certledger-Signer", ToHex(stranger.public_key)}, {"X-Certledger-Timestamp", "1000"},
        {"X-Certledger-Signature", sign("1000", target)}},
       {401}},
      {"signature over another target",
       {{"X-Certledger-Signer", ToHex(stranger.public_key)}, {"X-Certledger-Timestamp", ts},
        {"X-Certledger-Signature", sign(ts, "/v1/holders/other/certificates")}},
       {401}},
      {"garbage signature",
       {{"X-Certledger-Signer", ToHex(stranger.public_key)}, {"X-Certledger-Timestamp", ts},
        {"X-Certledger-Signature", std::string(128, '0')}},
       {401}},
      {"valid signature by a key nobody registered",
       {{"X-Certledger-Signer", ToHex(stranger.public_key)}, {"X-Certledger-Timestamp", ts},
        {"X-Certledger-Signature", sign(ts, target)}},
       {401, 403, 404}},
  };
  const uint64_t rss_before = RssKiB(net_.pid(1));
  CorrectClient good(net_.url(1));
  for (int round = 0; round < 40; ++round) {
    for (const Case& c : cases) {
      auto r = client::HttpRequest(net_.url(1), "GET", target, "", "application/json",
                                   {.timeout_ms = 5000, .headers = c.headers});
      ASSERT_TRUE(r.ok()) << c.name << ": " << r.status();
      EXPECT_NE(std::find(c.want.begin(), c.want.end(), r->status), c.want.end())
          << c.name << ": got " << r->status << " " << r->body;
      EXPECT_EQ(r->body.find("\"certificates\""), std::string::npos) << c.name << ": private data leaked";
    }
  }
  good.Stop();
  const auto s = good.Summarize();
  const uint64_t rss_after = RssKiB(net_.pid(1));
  Print("private reads", s, rss_before, rss_after);
  EXPECT_EQ(s.ok, s.requests);
  EXPECT_LT(rss_after, rss_before + 64 * 1024);
}

}  // namespace
}  // namespace cl::abuse
