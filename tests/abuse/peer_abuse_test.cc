// Peer-link abuse against real certledger-node processes (issue 8, "Hostile
// input"): connections that fail the handshake (garbage, oversized length
// prefixes, unknown node ids, a key not in genesis), a replayed real
// handshake, and an oversized and a tampered frame injected into a live,
// authenticated link. Each is dropped without effect: the node stays up, the
// network keeps committing, and the node logs the drop.
//
// Node 1's link to node 2 runs through a RecordingProxy (node 1 dials node 2
// at the proxy: [peers] in node-1.toml), which records node 1's real
// handshake and lets the test tamper with the live stream.
//
// tests/node/handshake_test.cc checks replays and forgeries on the pure
// handshake in memory; these check the daemon's transport end to end.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "base/bytes.h"
#include "crypto/suite.h"
#include "node/transport/handshake.h"
#include "proto/peer.pb.h"
#include "tests/abuse/abuse_harness.h"

namespace cl::abuse {
namespace {

using std::chrono::milliseconds;

// Splits the first two frames (hello, finish) off a recorded byte stream.
std::vector<std::string> Frames(const std::string& stream, size_t n) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (out.size() < n && pos + 4 <= stream.size()) {
    const size_t len = ReadBigEndian32(std::string_view(stream).substr(pos, 4));
    if (pos + 4 + len > stream.size()) break;
    out.push_back(stream.substr(pos, 4 + len));
    pos += 4 + len;
  }
  return out;
}

class PeerAbuseTest : public ::testing::Test {
 protected:
  PeerAbuseTest() {
    // The network's ports are chosen before the daemons start: the proxy to
    // node 2's peer port is made from the configuration hook.
    net_ = std::make_unique<AbuseNetwork>(3, [this](int i, const AbuseNetwork& net) -> std::string {
      if (i != 1) return "";
      proxy_ = std::make_unique<RecordingProxy>(net.peer_port(2), 8192);
      return "[peers]\n2 = \"127.0.0.1:" + std::to_string(proxy_->port()) + "\"\n";
    });
  }
  void SetUp() override {
    ASSERT_TRUE(net_->init_ok()) << net_->init_output();
    ASSERT_TRUE(net_->WaitReady()) << "the network did not become ready";
    ASSERT_TRUE(net_->Commit("before")) << net_->last_cli();
  }
  ~PeerAbuseTest() override {
    net_.reset();
    proxy_.reset();
  }

  // Opens a connection to node 2's peer port and sends `bytes`; true if node 2
  // closed it within 7 s (the handshake timeout is 5 s).
  bool DroppedByNode2(const std::string& bytes) {
    int fd = Dial(net_->peer_port(2));
    if (fd < 0) return false;
    (void)SendAll(fd, bytes);
    const bool closed = ClosedWithin(fd, milliseconds(7000));
    ::close(fd);
    return closed;
  }

  std::unique_ptr<RecordingProxy> proxy_;
  std::unique_ptr<AbuseNetwork> net_;
};

TEST_F(PeerAbuseTest, FailedReplayedAndForgedHandshakesAndBadFramesAreDroppedWithoutEffect) {
  ASSERT_GE(proxy_->connections(), 1) << "node 1 never dialled node 2 through the proxy";
  const uint64_t rss_before = RssKiB(net_->pid(2));
  const std::string genesis_text = [&] {
    std::ifstream in(net_->net() + "/genesis.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();

  // 1. Connections that fail the handshake.
  EXPECT_TRUE(DroppedByNode2("GET / HTTP/1.1\r\n\r\n")) << "garbage";
  EXPECT_TRUE(DroppedByNode2(std::string("\xff\xff\xff\xf0", 4) + "x")) << "oversized length prefix";
  EXPECT_TRUE(DroppedByNode2(std::string("\x00\x00\x00\x05" "abcde", 9))) << "undecodable hello";
  EXPECT_TRUE(DroppedByNode2("")) << "silent connection (handshake timeout)";

  // 2. Keys not in genesis: a stranger claiming an unknown id, and one
  // claiming node 1's id with its own key.
  auto suite = *crypto::MakeSuite("ed25519-sha256");
  const crypto::KeyPair stranger = suite->GenerateKey();
  // The chain id is in genesis.json ("chain_id" or, proto3 JSON, "chainId").
  size_t at = genesis_text.find("\"chain_id\"");
  if (at == std::string::npos) at = genesis_text.find("\"chainId\"");
  ASSERT_NE(at, std::string::npos);
  const size_t q1 = genesis_text.find('"', genesis_text.find(':', at) + 1);
  const std::string chain_id = genesis_text.substr(q1 + 1, genesis_text.find('"', q1 + 1) - q1 - 1);
  for (uint64_t claimed : {99u, 1u}) {
    node::PeerIdentity me{.id = NodeId(claimed), .chain_id = chain_id, .suite = suite.get(),
                          .secret_key = &stranger.secret_key, .public_key = stranger.public_key};
    node::HandshakeInitiator init(me, NodeId(2), Bytes(32, '\0'));
    int fd = Dial(net_->peer_port(2));
    ASSERT_GE(fd, 0);
    (void)SendAll(fd, node::EncodeFrame(init.Hello()));
    if (claimed == 1) {
      // Node 2 answers a hello from a known id; the finish signed with the
      // stranger's key must then fail.
      std::string reply = ReadSome(fd, milliseconds(3000), false);
      EXPECT_GE(reply.size(), 4u) << "node 2 did not answer a hello from a genesis id";
      certledger::peer::HandshakeFinish fin;
      fin.set_signature(*suite->Sign(stranger.secret_key, "anything"));
      (void)SendAll(fd, node::EncodeFrame(fin.SerializeAsString()));
    }
    EXPECT_TRUE(ClosedWithin(fd, milliseconds(7000))) << "claimed id " << claimed;
    ::close(fd);
  }

  // 3. A replayed real handshake: node 1's recorded hello and finish.
  const auto frames = Frames(proxy_->recorded(), 2);
  ASSERT_EQ(frames.size(), 2u) << "the proxy did not record a handshake";
  {
    int fd = Dial(net_->peer_port(2));
    ASSERT_GE(fd, 0);
    (void)SendAll(fd, frames[0]);
    std::string reply = ReadSome(fd, milliseconds(3000), false);
    EXPECT_GE(reply.size(), 4u) << "node 2 did not answer the replayed hello";
    (void)SendAll(fd, frames[1]);
    EXPECT_TRUE(ClosedWithin(fd, milliseconds(7000))) << "a replayed finish was not refused";
    ::close(fd);
  }
  EXPECT_TRUE(net_->Commit("after-handshake-abuse")) << net_->last_cli();

  // 4. Bad frames on the live, authenticated link 1 -> 2: an oversized length
  // prefix, then a tampered sealed frame. Node 2 drops the link, node 1
  // redials (through the proxy), and the network keeps committing.
  for (const std::string& bad : {std::string("\x7f\xff\xff\xff", 4), std::string("\x00\x00\x00\x20", 4) +
                                                                          std::string(32, '\x5a')}) {
    const int before = proxy_->connections();
    proxy_->Inject(bad);
    EXPECT_TRUE(WaitFor([&] { return proxy_->connections() > before; }, milliseconds(15000)))
        << "node 1 did not redial after node 2 dropped the tampered link";
    EXPECT_TRUE(net_->Commit("after-bad-frame-" + std::to_string(before))) << net_->last_cli();
  }

  const uint64_t rss_after = RssKiB(net_->pid(2));
  const std::string log2 = net_->LogText(2);
  std::printf("[abuse] peer: node 2 VmRSS %llu KiB -> %llu KiB; proxy saw %d connections from node 1\n",
              static_cast<unsigned long long>(rss_before), static_cast<unsigned long long>(rss_after),
              proxy_->connections());
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(net_->alive(i)) << "node " << i << " died";
  auto count = [&](std::string_view what) {
    size_t n = 0;
    for (size_t p = log2.find(what); p != std::string::npos; p = log2.find(what, p + 1)) ++n;
    return n;
  };
  std::printf("[abuse] peer: node 2 logged %zu frame_rejected and %zu handshake_timeout drops\n",
              count("frame_rejected"), count("handshake_timeout"));
  // Garbage, oversized prefix, undecodable hello, unknown id, forged finish,
  // replayed finish, and the two bad frames on the live link: 8 drops.
  EXPECT_GE(count("frame_rejected"), 8u) << "node 2 did not log every dropped connection";
  EXPECT_GE(count("handshake_timeout"), 1u) << "node 2 did not log the silent connection";
  EXPECT_LT(rss_after, rss_before + 64 * 1024);
}

}  // namespace
}  // namespace cl::abuse
