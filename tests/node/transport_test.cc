// Peer transport over real 127.0.0.1 sockets.
#include "node/transport/transport.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "node/transport/handshake.h"
#include "tests/node/test_sockets.h"

namespace cl::node {
namespace {

using cl::testing::RawSocket;
using cl::testing::TamperProxy;
using cl::testing::WaitFor;
using namespace std::chrono_literals;

struct Received {
  NodeId from;
  Channel ch;
  Bytes payload;
};

// Collects what a transport delivers (handler runs on its I/O thread).
class Inbox {
 public:
  Transport::Handler Handler() {
    return [this](NodeId from, Channel ch, Bytes p) {
      std::lock_guard lock(mu_);
      got_.push_back({from, ch, std::move(p)});
    };
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  std::vector<Received> all() {
    std::lock_guard lock(mu_);
    return got_;
  }
  bool WaitForCount(size_t n) { return WaitFor([&] { return size() >= n; }); }

 private:
  std::mutex mu_;
  std::vector<Received> got_;
};

class TransportTest : public ::testing::Test {
 protected:
  static constexpr int kNodes = 4;
  void SetUp() override {
    suite_ = *crypto::MakeSuite("ed25519-sha256");
    for (int i = 1; i <= kNodes; ++i) {
      auto kp = *suite_->KeyFromSeed(Bytes(32, static_cast<char>(i)));
      pub_[i] = kp.public_key;
    }
  }
  crypto::SecretKey SecretOf(int id) {
    return std::move(suite_->KeyFromSeed(Bytes(32, static_cast<char>(id)))->secret_key);
  }
  static TransportLimits FastLimits() {
    return TransportLimits{.handshake_timeout_ms = 2000,
                           .keepalive_interval_ms = 100,
                           .idle_timeout_ms = 2000,
                           .reconnect_initial_ms = 20,
                           .reconnect_max_ms = 200};
  }
  // A transport for node `id` listening on `port` (0: any) that knows the
  // peers in `ports` (id -> port).
  std::unique_ptr<Transport> Make(int id, uint16_t port, const std::map<int, uint16_t>& ports,
                                  TransportLimits limits = FastLimits()) {
    TransportOptions o{.self = NodeId(id),
                       .chain_id = "city-1",
                       .suite = suite_,
                       .listen_address = "127.0.0.1:" + std::to_string(port),
                       .limits = limits,
                       .jitter_seed = 7,
                       .log = Logger::Null()};
    for (auto [pid, pport] : ports)
      o.peers.push_back({NodeId(pid), "127.0.0.1:" + std::to_string(pport), pub_[pid]});
    auto t = Transport::Create(std::move(o), SecretOf(id));
    EXPECT_TRUE(t.ok()) << t.status();
    return std::move(*t);
  }
  // A free port (bound then released).
  // Peers restart on their port: keep it out of the ephemeral range.
  static uint16_t FreePort() { return cl::testing::StablePort(); }

  std::shared_ptr<const crypto::Suite> suite_;
  std::map<int, Bytes> pub_;
};

TEST_F(TransportTest, TwoNodesExchangeMessagesBothWays) {
  uint16_t p1 = FreePort(), p2 = FreePort();
  auto a = Make(1, p1, {{2, p2}});
  auto b = Make(2, p2, {{1, p1}});
  Inbox ia, ib;
  a->SetHandler(ia.Handler());
  b->SetHandler(ib.Handler());
  std::atomic<int> up{0};
  a->SetPeerStateHandler([&](NodeId peer, bool c) { if (c && peer == NodeId(2)) ++up; });
  a->Start();
  b->Start();
  ASSERT_TRUE(a->Send(NodeId(2), "raft from 1", Channel::kRaft));
  ASSERT_TRUE(b->Send(NodeId(1), "sig from 2", Channel::kHeaderSig));
  ASSERT_TRUE(ib.WaitForCount(1));
  ASSERT_TRUE(ia.WaitForCount(1));
  EXPECT_EQ(ib.all()[0].from, NodeId(1));
  EXPECT_EQ(ib.all()[0].ch, Channel::kRaft);
  EXPECT_EQ(ib.all()[0].payload, "raft from 1");
  EXPECT_EQ(ia.all()[0].from, NodeId(2));
  EXPECT_EQ(ia.all()[0].ch, Channel::kHeaderSig);
  EXPECT_EQ(ia.all()[0].payload, "sig from 2");
  EXPECT_TRUE(a->IsConnected(NodeId(2)));
  EXPECT_TRUE(b->IsConnected(NodeId(1)));
  EXPECT_EQ(up.load(), 1);

  // Order within a channel is kept, and a large payload arrives whole.
  Bytes big(1 << 20, 'x');
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(a->Send(NodeId(2), std::to_string(i), Channel::kForward));
  ASSERT_TRUE(a->Send(NodeId(2), big, Channel::kSnapshot));
  ASSERT_TRUE(ib.WaitForCount(102));
  auto got = ib.all();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[1 + i].payload, std::to_string(i));
  EXPECT_EQ(got[101].payload, big);
  a->Stop();
  b->Stop();
  EXPECT_EQ(a->Stats().handshakes_ok, 1u);
}

TEST_F(TransportTest, ThreeNodesFullMesh) {
  std::map<int, uint16_t> ports{{1, FreePort()}, {2, FreePort()}, {3, FreePort()}};
  std::map<int, std::unique_ptr<Transport>> t;
  std::map<int, Inbox> in;
  for (int i = 1; i <= 3; ++i) {
    auto peers = ports;
    peers.erase(i);
    t[i] = Make(i, ports[i], peers);
    t[i]->SetHandler(in[i].Handler());
  }
  for (auto& [i, tr] : t) tr->Start();
  for (int from = 1; from <= 3; ++from)
    for (int to = 1; to <= 3; ++to)
      if (from != to) {
        ASSERT_TRUE(t[from]->Send(NodeId(to), std::to_string(from) + "->" + std::to_string(to), Channel::kRaft));
      }
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(in[i].WaitForCount(2)) << "node " << i;
    for (const auto& r : in[i].all())
      EXPECT_EQ(r.payload, std::to_string(r.from.value()) + "->" + std::to_string(i));
  }
  for (auto& [i, tr] : t) tr->Stop();
}

TEST_F(TransportTest, ReconnectsAfterEitherPeerRestarts) {
  uint16_t p1 = FreePort(), p2 = FreePort();
  auto a = Make(1, p1, {{2, p2}});
  Inbox ia;
  a->SetHandler(ia.Handler());
  a->Start();
  int received_by_b = 0;
  for (int round = 0; round < 2; ++round) {
    // The accepting side (node 2) restarts: node 1 redials it with backoff.
    auto b = Make(2, p2, {{1, p1}});
    Inbox ib;
    b->SetHandler(ib.Handler());
    b->Start();
    ASSERT_TRUE(WaitFor([&] { return a->IsConnected(NodeId(2)); })) << "round " << round;
    ASSERT_TRUE(a->Send(NodeId(2), "hello " + std::to_string(round), Channel::kRaft));
    ASSERT_TRUE(ib.WaitForCount(1));
    EXPECT_EQ(ib.all()[0].payload, "hello " + std::to_string(round));
    ++received_by_b;
    b->Stop();
    ASSERT_TRUE(WaitFor([&] { return !a->IsConnected(NodeId(2)); }));
  }
  EXPECT_EQ(received_by_b, 2);

  // The dialling side (node 1) restarts: the new incarnation dials again.
  auto b = Make(2, p2, {{1, p1}});
  Inbox ib;
  b->SetHandler(ib.Handler());
  b->Start();
  ASSERT_TRUE(WaitFor([&] { return b->IsConnected(NodeId(1)); }));
  a->Stop();
  a.reset();
  auto a2 = Make(1, p1, {{2, p2}});
  Inbox ia2;
  a2->SetHandler(ia2.Handler());
  a2->Start();
  // b may still hold the old incarnation's half-open link for a moment, and a
  // payload written into a link that breaks is lost (documented): resend, as
  // raft does, until the new link delivers it.
  for (int attempt = 0; attempt < 30 && ia2.size() == 0; ++attempt) {
    (void)b->Send(NodeId(1), "after restart", Channel::kRaft);
    WaitFor([&] { return ia2.size() > 0; }, std::chrono::milliseconds(300));
  }
  ASSERT_GE(ia2.size(), 1u);
  EXPECT_EQ(ia2.all()[0].payload, "after restart");
  a2->Stop();
  b->Stop();
}

TEST_F(TransportTest, UnknownOrWrongKeyIsRefused) {
  uint16_t p2 = FreePort();
  auto b = Make(2, p2, {{1, FreePort()}});  // genesis of b: nodes 1 and 2
  Inbox ib;
  b->SetHandler(ib.Handler());
  b->Start();

  // Node 1 with node 4's secret key (not the genesis key of node 1).
  TransportOptions o{.self = NodeId(1), .chain_id = "city-1", .suite = suite_,
                     .listen_address = "127.0.0.1:0", .peers = {{NodeId(2), "127.0.0.1:" + std::to_string(p2), pub_[2]}},
                     .limits = FastLimits(), .log = Logger::Null()};
  auto impostor = std::move(*Transport::Create(std::move(o), SecretOf(4)));
  // Node 3 is not in b's genesis at all.
  crypto::SecretKey k3 = SecretOf(3);
  PeerIdentity id3{.id = NodeId(3), .chain_id = "city-1", .suite = suite_.get(), .secret_key = &k3, .public_key = pub_[3]};
  HandshakeInitiator init(id3, NodeId(2), pub_[2]);
  RawSocket raw(p2);
  ASSERT_TRUE(raw.Write(EncodeFrame(init.Hello())));
  EXPECT_TRUE(raw.ClosedByPeer());

  impostor->Start();
  ASSERT_TRUE(impostor->Send(NodeId(2), "forged", Channel::kRaft));
  ASSERT_TRUE(WaitFor([&] { return b->Stats().handshake_failures >= 2; }));
  EXPECT_FALSE(b->IsConnected(NodeId(1)));
  EXPECT_FALSE(impostor->IsConnected(NodeId(2)));
  EXPECT_EQ(ib.size(), 0u);
  EXPECT_EQ(b->Stats().handshakes_ok, 0u);
  impostor->Stop();
  b->Stop();
}

TEST_F(TransportTest, TamperedFrameKillsTheConnection) {
  uint16_t p1 = FreePort(), p2 = FreePort();
  auto b = Make(2, p2, {{1, p1}});
  Inbox ib;
  b->SetHandler(ib.Handler());
  b->Start();
  TamperProxy proxy(p2);
  auto a = Make(1, p1, {{2, proxy.port()}});  // node 1 reaches node 2 through the proxy
  a->Start();
  ASSERT_TRUE(WaitFor([&] { return b->IsConnected(NodeId(1)); }));
  ASSERT_TRUE(a->Send(NodeId(2), "clean", Channel::kRaft));
  ASSERT_TRUE(ib.WaitForCount(1));

  proxy.TamperNext();
  ASSERT_TRUE(a->Send(NodeId(2), "tampered", Channel::kRaft));
  ASSERT_TRUE(WaitFor([&] { return b->Stats().decrypt_failures == 1; }));
  EXPECT_EQ(proxy.tampered(), 1);
  // The tampered frame was never delivered; the link was closed and redialled.
  ASSERT_TRUE(WaitFor([&] { return b->Stats().handshakes_ok == 2 && b->IsConnected(NodeId(1)); }));
  ASSERT_TRUE(a->Send(NodeId(2), "after", Channel::kRaft));
  ASSERT_TRUE(WaitFor([&] { return ib.size() >= 2 && ib.all().back().payload == "after"; }));
  for (const auto& r : ib.all()) EXPECT_NE(r.payload, "tampered");
  a->Stop();
  b->Stop();
}

// A raw client that completes a real handshake as node 1 (the test holds its key).
class RawPeer {
 public:
  RawPeer(const PeerIdentity& self, uint16_t port, const Bytes& responder_key)
      : sock(port), init(self, NodeId(2), responder_key) {}
  bool Handshake() {
    hello = init.Hello();
    if (!sock.Write(EncodeFrame(hello))) return false;
    Bytes reply;
    if (!ReadFrame(&reply)) return false;
    auto fin = init.OnReply(reply);
    if (!fin.ok()) return false;
    finish = fin->first;
    session.emplace(std::move(fin->second));
    return sock.Write(EncodeFrame(finish));
  }
  bool ReadFrame(Bytes* body) {
    Bytes h;
    if (!sock.ReadExact(kFrameHeaderBytes, &h)) return false;
    return sock.ReadExact(ReadBigEndian32(h), body);
  }
  RawSocket sock;
  HandshakeInitiator init;
  Bytes hello, finish;
  std::optional<Session> session;
};

TEST_F(TransportTest, ReplayedHandshakeFails) {
  uint16_t p2 = FreePort();
  auto b = Make(2, p2, {{1, FreePort()}});
  b->Start();
  crypto::SecretKey k1 = SecretOf(1);
  PeerIdentity id1{.id = NodeId(1), .chain_id = "city-1", .suite = suite_.get(), .secret_key = &k1, .public_key = pub_[1]};
  RawPeer real(id1, p2, pub_[2]);
  ASSERT_TRUE(real.Handshake());
  ASSERT_TRUE(WaitFor([&] { return b->IsConnected(NodeId(1)); }));
  real.sock.Close();
  ASSERT_TRUE(WaitFor([&] { return !b->IsConnected(NodeId(1)); }));

  // An eavesdropper replays the recorded hello and finish on a new connection.
  RawSocket replay(p2);
  ASSERT_TRUE(replay.Write(EncodeFrame(real.hello)));
  Bytes h, reply;
  ASSERT_TRUE(replay.ReadExact(kFrameHeaderBytes, &h));
  ASSERT_TRUE(replay.ReadExact(ReadBigEndian32(h), &reply));
  ASSERT_TRUE(replay.Write(EncodeFrame(real.finish)));
  EXPECT_TRUE(replay.ClosedByPeer());
  EXPECT_FALSE(b->IsConnected(NodeId(1)));
  EXPECT_EQ(b->Stats().handshakes_ok, 1u);
  EXPECT_EQ(b->Stats().handshake_failures, 1u);
  b->Stop();
}

TEST_F(TransportTest, OversizeFramesAreRejectedBeforeAllocating) {
  uint16_t p2 = FreePort();
  TransportLimits lim = FastLimits();
  lim.max_frame_bytes = 1024;
  auto b = Make(2, p2, {{1, FreePort()}}, lim);
  Inbox ib;
  b->SetHandler(ib.Handler());
  b->Start();
  // Before the handshake: a 3 GiB length prefix.
  RawSocket raw(p2);
  ASSERT_TRUE(raw.Write(std::string("\xc0\x00\x00\x00", 4)));
  EXPECT_TRUE(raw.ClosedByPeer());
  EXPECT_EQ(b->Stats().oversize_frames, 1u);

  // After the handshake: a sealed frame just over the limit.
  crypto::SecretKey k1 = SecretOf(1);
  PeerIdentity id1{.id = NodeId(1), .chain_id = "city-1", .suite = suite_.get(), .secret_key = &k1, .public_key = pub_[1]};
  RawPeer peer(id1, p2, pub_[2]);
  ASSERT_TRUE(peer.Handshake());
  ASSERT_TRUE(WaitFor([&] { return b->IsConnected(NodeId(1)); }));
  ASSERT_TRUE(peer.sock.Write(peer.session->cipher.Seal(Bytes(4096, 'x'))));
  EXPECT_TRUE(peer.sock.ClosedByPeer());
  EXPECT_EQ(b->Stats().oversize_frames, 2u);
  EXPECT_EQ(ib.size(), 0u);

  // The sender refuses payloads over the limit too.
  EXPECT_FALSE(b->Send(NodeId(1), Bytes(1025, 'x'), Channel::kSnapshot));
  b->Stop();
}

TEST_F(TransportTest, GarbageFromRawSocketsDoesNotHurt) {
  uint16_t p1 = FreePort(), p2 = FreePort();
  TransportLimits lim = FastLimits();
  lim.handshake_timeout_ms = 300;
  auto b = Make(2, p2, {{1, p1}}, lim);
  Inbox ib;
  b->SetHandler(ib.Handler());
  b->Start();
  const std::string cases[] = {
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      std::string("\x00\x00\x00\x05hello", 9),           // framed junk
      std::string("\x00\x00\x00\x00", 4),                // empty hello
      std::string("\x00\x00\x10\x00", 4) + "short",      // truncated body, then silence
      "",                                                 // connect and say nothing
  };
  for (const auto& c : cases) {
    RawSocket raw(p2);
    ASSERT_TRUE(raw.connected());
    if (!c.empty()) {
      ASSERT_TRUE(raw.Write(c));
    }
    EXPECT_TRUE(raw.ClosedByPeer(3s)) << ::testing::PrintToString(c);
  }
  EXPECT_GE(b->Stats().handshake_failures, 5u);
  // Still serves a real peer.
  auto a = Make(1, p1, {{2, p2}});
  a->Start();
  ASSERT_TRUE(a->Send(NodeId(2), "still fine", Channel::kRaft));
  ASSERT_TRUE(ib.WaitForCount(1));
  a->Stop();
  b->Stop();
}

TEST_F(TransportTest, QueueBoundHoldsAndHighPriorityGoesFirst) {
  uint16_t p1 = FreePort(), p2 = FreePort();
  TransportLimits lim = FastLimits();
  lim.max_queue_messages = 3;
  lim.max_queue_bytes = 100;
  auto a = Make(1, p1, {{2, p2}}, lim);
  a->Start();  // node 2 is down: everything queues
  EXPECT_TRUE(a->Send(NodeId(2), "s1", Channel::kSnapshot));
  EXPECT_TRUE(a->Send(NodeId(2), "s2", Channel::kSnapshot));
  EXPECT_TRUE(a->Send(NodeId(2), "s3", Channel::kSnapshot));
  EXPECT_FALSE(a->Send(NodeId(2), "s4", Channel::kSnapshot));  // message bound: newest dropped
  EXPECT_TRUE(a->Send(NodeId(2), Bytes(90, 'r'), Channel::kRaft));
  EXPECT_FALSE(a->Send(NodeId(2), Bytes(11, 'r'), Channel::kRaft));  // byte bound
  EXPECT_FALSE(a->Send(NodeId(9), "nobody", Channel::kRaft));
  EXPECT_EQ(a->Stats().dropped_queue_full, 2u);
  EXPECT_EQ(a->Stats().dropped_unknown_peer, 1u);

  auto b = Make(2, p2, {{1, p1}});
  Inbox ib;
  b->SetHandler(ib.Handler());
  b->Start();
  ASSERT_TRUE(ib.WaitForCount(4));
  auto got = ib.all();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].ch, Channel::kRaft);  // raft before the snapshot chunks queued earlier
  EXPECT_EQ(got[1].payload, "s1");
  EXPECT_EQ(got[2].payload, "s2");
  EXPECT_EQ(got[3].payload, "s3");
  a->Stop();
  b->Stop();
}

TEST_F(TransportTest, KeepaliveHoldsAnIdleLinkAndSilentPeersAreDropped) {
  uint16_t p1 = FreePort(), p2 = FreePort();
  TransportLimits lim = FastLimits();
  // Margins for a loaded machine (sanitizers, parallel tests): an I/O thread
  // held up for a few hundred ms must not look like a dead peer.
  lim.keepalive_interval_ms = 100;
  lim.idle_timeout_ms = 1000;
  auto a = Make(1, p1, {{2, p2}}, lim);
  auto b = Make(2, p2, {{1, p1}}, lim);
  a->Start();
  b->Start();
  ASSERT_TRUE(WaitFor([&] { return a->IsConnected(NodeId(2)) && b->IsConnected(NodeId(1)); }));
  std::this_thread::sleep_for(2500ms);  // > 2 idle timeouts with no payload traffic
  EXPECT_TRUE(a->IsConnected(NodeId(2)));
  EXPECT_EQ(b->Stats().connections_closed, 0u);
  a->Stop();

  // A peer that authenticates and then goes silent is closed after idle_timeout_ms.
  crypto::SecretKey k1 = SecretOf(1);
  PeerIdentity id1{.id = NodeId(1), .chain_id = "city-1", .suite = suite_.get(), .secret_key = &k1, .public_key = pub_[1]};
  RawPeer silent(id1, p2, pub_[2]);
  ASSERT_TRUE(silent.Handshake());
  ASSERT_TRUE(WaitFor([&] { return b->IsConnected(NodeId(1)); }));
  EXPECT_TRUE(silent.sock.ClosedByPeer(6s));
  EXPECT_TRUE(WaitFor([&] { return !b->IsConnected(NodeId(1)); }));
  b->Stop();
}

TEST_F(TransportTest, CreateValidatesOptions) {
  struct Case { const char* name; std::function<void(TransportOptions&)> mutate; };
  const Case cases[] = {
      {"zero_self", [](TransportOptions& o) { o.self = NodeId(0); }},
      {"no_chain", [](TransportOptions& o) { o.chain_id.clear(); }},
      {"bad_listen", [](TransportOptions& o) { o.listen_address = "localhost"; }},
      {"bad_peer_key", [](TransportOptions& o) { o.peers[0].public_key = "short"; }},
      {"bad_peer_address", [](TransportOptions& o) { o.peers[0].address = "nowhere"; }},
      {"idle_below_keepalive", [](TransportOptions& o) { o.limits.idle_timeout_ms = 10; }},
  };
  for (const auto& c : cases) {
    TransportOptions o{.self = NodeId(1), .chain_id = "city-1", .suite = suite_,
                       .listen_address = "127.0.0.1:0",
                       .peers = {{NodeId(2), "127.0.0.1:1", pub_[2]}},
                       .log = Logger::Null()};
    c.mutate(o);
    EXPECT_FALSE(Transport::Create(std::move(o), SecretOf(1)).ok()) << c.name;
  }
}

}  // namespace
}  // namespace cl::node
