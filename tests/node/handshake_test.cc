#include "node/transport/handshake.h"

#include <gtest/gtest.h>

#include <map>

#include "proto/peer.pb.h"
#include "tests/node/every_suite.h"

namespace cl::node {
namespace {

struct TestNode {
  crypto::KeyPair keys;
  PeerIdentity id;
};

// Every case runs once per crypto suite: the handshake signs and hashes its
// transcript with the network's suite (SM2/SM3 on a 国密 network), while the
// session keys and frame cipher are libsodium's on both (docs/crypto.md).
class HandshakeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    suite_ = *crypto::MakeSuite(GetParam());
    for (uint64_t i : {1, 2, 3}) {
      auto& n = nodes_[i];
      n.keys = *suite_->KeyFromSeed(Bytes(32, static_cast<char>(i)));
      n.id = PeerIdentity{.id = NodeId(i), .chain_id = "city-1", .suite = suite_.get(),
                          .secret_key = &n.keys.secret_key, .public_key = n.keys.public_key};
    }
  }
  // Genesis as node 2 knows it: nodes 1 and 2 (node 3 is not a member).
  HandshakeResponder::KeyLookup Genesis() {
    return [this](NodeId id) -> std::optional<Bytes> {
      if (id == NodeId(1) || id == NodeId(2)) return nodes_[id.value()].keys.public_key;
      return std::nullopt;
    };
  }
  // Runs a full handshake 1 -> 2; returns both sessions.
  std::pair<Session, Session> Connect() {
    HandshakeInitiator init(nodes_[1].id, NodeId(2), nodes_[2].keys.public_key);
    HandshakeResponder resp(nodes_[2].id, Genesis());
    auto reply = resp.OnHello(init.Hello());
    EXPECT_TRUE(reply.ok()) << reply.status();
    auto fin = init.OnReply(*reply);
    EXPECT_TRUE(fin.ok()) << fin.status();
    auto s = resp.OnFinish(fin->first);
    EXPECT_TRUE(s.ok()) << s.status();
    return {std::move(fin->second), std::move(*s)};
  }
  static Result<Bytes> OpenFrame(FrameCipher& c, ByteView frame) {
    return c.Open(frame.substr(0, kFrameHeaderBytes), frame.substr(kFrameHeaderBytes));
  }

  std::shared_ptr<const crypto::Suite> suite_;
  std::map<uint64_t, TestNode> nodes_;
};

TEST_P(HandshakeTest, BothSidesAgreeOnIdentitiesAndKeysBothWays) {
  auto [a, b] = Connect();
  EXPECT_EQ(a.peer, NodeId(2));
  EXPECT_EQ(b.peer, NodeId(1));
  for (int i = 0; i < 3; ++i) {
    auto m = OpenFrame(b.cipher, a.cipher.Seal("a->b " + std::to_string(i)));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(*m, "a->b " + std::to_string(i));
    auto n = OpenFrame(a.cipher, b.cipher.Seal("b->a"));
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, "b->a");
  }
}

TEST_P(HandshakeTest, SealedFramesHideThePlaintextAndCarryTheirLength) {
  auto [a, b] = Connect();
  Bytes frame = a.cipher.Seal("secret payload");
  EXPECT_EQ(frame.size(), kFrameHeaderBytes + 14 + kAeadTagBytes);
  EXPECT_EQ(ReadBigEndian32(frame), 14 + kAeadTagBytes);
  EXPECT_EQ(frame.find("secret"), Bytes::npos);
}

TEST_P(HandshakeTest, TamperedReplayedOrReorderedFramesFail) {
  struct Case { const char* name; std::function<void(FrameCipher& a, FrameCipher& b)> run; };
  const Case cases[] = {
      {"flipped_body_bit", [](FrameCipher& a, FrameCipher& b) {
         Bytes f = a.Seal("hello");
         f[kFrameHeaderBytes + 1] ^= 1;
         EXPECT_EQ(OpenFrame(b, f).status().code(), Code::kCorruption);
       }},
      {"flipped_tag_bit", [](FrameCipher& a, FrameCipher& b) {
         Bytes f = a.Seal("hello");
         f.back() ^= 0x80;
         EXPECT_EQ(OpenFrame(b, f).status().code(), Code::kCorruption);
       }},
      {"replayed", [](FrameCipher& a, FrameCipher& b) {
         Bytes f = a.Seal("once");
         ASSERT_TRUE(OpenFrame(b, f).ok());
         EXPECT_EQ(OpenFrame(b, f).status().code(), Code::kCorruption);
       }},
      {"reordered", [](FrameCipher& a, FrameCipher& b) {
         Bytes f1 = a.Seal("first");
         Bytes f2 = a.Seal("second");
         EXPECT_EQ(OpenFrame(b, f2).status().code(), Code::kCorruption);
         EXPECT_TRUE(OpenFrame(b, f1).ok());  // a failed open does not advance the counter
       }},
      {"reflected", [](FrameCipher& a, FrameCipher&) {
         Bytes f = a.Seal("to myself");  // sent back to its sender: other direction key
         EXPECT_EQ(OpenFrame(a, f).status().code(), Code::kCorruption);
       }},
      {"truncated", [](FrameCipher& a, FrameCipher& b) {
         Bytes f = a.Seal("hello");
         f.pop_back();
         EXPECT_EQ(OpenFrame(b, f).status().code(), Code::kCorruption);
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto [a, b] = Connect();
    c.run(a.cipher, b.cipher);
  }
}

TEST_P(HandshakeTest, ResponderRefusesBadHellos) {
  struct Case { const char* name; NodeId claimed; std::string chain; NodeId target; Code want; };
  const Case cases[] = {
      {"unknown_node", NodeId(3), "city-1", NodeId(2), Code::kUnauthenticated},
      {"claims_to_be_responder", NodeId(2), "city-1", NodeId(2), Code::kUnauthenticated},
      {"other_chain", NodeId(1), "city-2", NodeId(2), Code::kPermissionDenied},
      {"meant_for_other_node", NodeId(1), "city-1", NodeId(7), Code::kPermissionDenied},
  };
  for (const auto& c : cases) {
    PeerIdentity who = nodes_[1].id;
    who.id = c.claimed;
    who.chain_id = c.chain;
    HandshakeInitiator init(who, c.target, nodes_[2].keys.public_key);
    HandshakeResponder resp(nodes_[2].id, Genesis());
    EXPECT_EQ(resp.OnHello(init.Hello()).status().code(), c.want) << c.name;
  }
  HandshakeResponder resp(nodes_[2].id, Genesis());
  EXPECT_EQ(resp.OnHello("\xff\xff garbage").status().code(), Code::kInvalidArgument);
}

TEST_P(HandshakeTest, ImpostorWithoutTheGenesisKeyIsRefused) {
  // Node 3's key claiming to be node 1 (whose genesis key it does not hold).
  PeerIdentity impostor = nodes_[3].id;
  impostor.id = NodeId(1);
  impostor.public_key = nodes_[1].keys.public_key;  // claims the genesis key, signs with its own
  HandshakeInitiator init(impostor, NodeId(2), nodes_[2].keys.public_key);
  HandshakeResponder resp(nodes_[2].id, Genesis());
  auto reply = resp.OnHello(init.Hello());
  ASSERT_TRUE(reply.ok());
  auto fin = init.OnReply(*reply);
  ASSERT_TRUE(fin.ok());
  EXPECT_EQ(resp.OnFinish(fin->first).status().code(), Code::kUnauthenticated);
}

TEST_P(HandshakeTest, ImpostorResponderIsRefused) {
  // Node 3 answers a dial meant for node 2.
  PeerIdentity fake = nodes_[3].id;
  fake.id = NodeId(2);
  HandshakeInitiator init(nodes_[1].id, NodeId(2), nodes_[2].keys.public_key);
  HandshakeResponder resp(fake, Genesis());
  auto reply = resp.OnHello(init.Hello());
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(init.OnReply(*reply).status().code(), Code::kUnauthenticated);
}

TEST_P(HandshakeTest, ManInTheMiddleSwappingEphemeralKeysIsDetected) {
  HandshakeInitiator init(nodes_[1].id, NodeId(2), nodes_[2].keys.public_key);
  HandshakeResponder resp(nodes_[2].id, Genesis());
  // The attacker replaces the initiator's ephemeral key with its own.
  certledger::peer::HandshakeHello hello;
  ASSERT_TRUE(hello.ParseFromString(init.Hello()));
  hello.set_ephemeral_key(Bytes(32, '\x42'));
  auto reply = resp.OnHello(hello.SerializeAsString());
  ASSERT_TRUE(reply.ok());
  // The responder signed a transcript with the attacker's key: the initiator refuses.
  EXPECT_EQ(init.OnReply(*reply).status().code(), Code::kUnauthenticated);
}

TEST_P(HandshakeTest, ReplayedFinishFromAnotherHandshakeIsRefused) {
  HandshakeInitiator init(nodes_[1].id, NodeId(2), nodes_[2].keys.public_key);
  Bytes hello = init.Hello();
  HandshakeResponder first(nodes_[2].id, Genesis());
  auto fin = init.OnReply(*first.OnHello(hello));
  ASSERT_TRUE(fin.ok());
  ASSERT_TRUE(first.OnFinish(fin->first).ok());
  // Replaying the recorded hello and finish to a fresh responder: it picks a
  // fresh ephemeral key and nonce, so the old signature does not cover it.
  HandshakeResponder second(nodes_[2].id, Genesis());
  ASSERT_TRUE(second.OnHello(hello).ok());
  EXPECT_EQ(second.OnFinish(fin->first).status().code(), Code::kUnauthenticated);
}

TEST_P(HandshakeTest, LowOrderEphemeralKeyIsRefused) {
  HandshakeInitiator init(nodes_[1].id, NodeId(2), nodes_[2].keys.public_key);
  certledger::peer::HandshakeHello hello;
  ASSERT_TRUE(hello.ParseFromString(init.Hello()));
  hello.set_ephemeral_key(Bytes(32, '\0'));  // the identity point: shared secret all zeros
  HandshakeResponder resp(nodes_[2].id, Genesis());
  EXPECT_EQ(resp.OnHello(hello.SerializeAsString()).status().code(), Code::kInvalidArgument);
}

CL_INSTANTIATE_FOR_EVERY_SUITE(HandshakeTest);

}  // namespace
}  // namespace cl::node
