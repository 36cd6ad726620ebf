// Fuzz target: the peer-link handshake and frame decryption
// (node/transport/handshake.h) as the transport drives them, fed hostile bytes.
//
// Genesis as the fuzz world knows it: nodes 1 and 2 (node 3's key exists but
// it is not a member). Input: a mode byte, then chunks (fuzz_util.h).
//   mode 0, responder (node 2): OnHello(chunk); if accepted, the reply decodes
//     and names node 2, the claimed initiator is a genesis node, and
//     OnFinish(chunk) must FAIL: the finish is a signature over a transcript
//     holding the responder's fresh ephemeral key, which no input can know.
//   mode 1, initiator (node 1 dialling 2): OnReply(chunk) must fail for the
//     same reason (the reply must carry node 2's signature over our key).
//   mode 2, an authenticated session: each step either seals a real frame on
//     one side and opens it on the other (must succeed, same bytes), or opens
//     fuzzed frame bytes (must fail, and must not disturb the real stream).
//   mode 3, framing: the length prefix of EncodeFrame round-trips and a length
//     over kMaxHandshakeFrameBytes is what the transport refuses.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/check.h"
#include "crypto/suite.h"
#include "fuzz/fuzz_util.h"
#include "node/transport/handshake.h"
#include "proto/peer.pb.h"

namespace cl::fuzz {
namespace {

struct Peer {
  crypto::KeyPair keys;
  node::PeerIdentity id;
};

struct World {
  std::shared_ptr<const crypto::Suite> suite = *crypto::MakeSuite("ed25519-sha256");
  std::map<uint64_t, Peer> peers;
  World() {
    for (uint64_t i : {1, 2, 3}) {
      Peer& p = peers[i];
      p.keys = *suite->KeyFromSeed(Bytes(32, static_cast<char>(i)));
      p.id = node::PeerIdentity{.id = NodeId(i), .chain_id = "city-1", .suite = suite.get(),
                                .secret_key = &p.keys.secret_key, .public_key = p.keys.public_key};
    }
  }
  node::HandshakeResponder::KeyLookup Genesis() {
    return [this](NodeId id) -> std::optional<Bytes> {
      if (id == NodeId(1) || id == NodeId(2)) return peers[id.value()].keys.public_key;
      return std::nullopt;
    };
  }
};

World& TheWorld() {
  static World* w = new World();
  return *w;
}

void Responder(World& w, Input& in) {
  node::HandshakeResponder resp(w.peers[2].id, w.Genesis());
  auto reply = resp.OnHello(in.Chunk());
  if (!reply.ok()) return;
  CL_CHECK(resp.initiator() == NodeId(1), "a hello from a non-member was accepted");
  certledger::peer::HandshakeReply r;
  CL_CHECK(r.ParseFromString(*reply) && r.responder_id() == 2, "the reply names the responder");
  auto session = resp.OnFinish(in.Chunk());
  CL_CHECK(!session.ok(), "a handshake authenticated without the initiator's key");
}

void Initiator(World& w, Input& in) {
  node::HandshakeInitiator init(w.peers[1].id, NodeId(2), w.peers[2].keys.public_key);
  certledger::peer::HandshakeHello h;
  CL_CHECK(h.ParseFromString(init.Hello()), "our own hello decodes");
  auto fin = init.OnReply(in.Chunk());
  CL_CHECK(!fin.ok(), "a handshake authenticated without the responder's key");
}

void Session(World& w, Input& in) {
  node::HandshakeInitiator init(w.peers[1].id, NodeId(2), w.peers[2].keys.public_key);
  node::HandshakeResponder resp(w.peers[2].id, w.Genesis());
  auto reply = resp.OnHello(init.Hello());
  CL_CHECK(reply.ok(), reply.status().ToString());
  auto fin = init.OnReply(*reply);
  CL_CHECK(fin.ok(), fin.status().ToString());
  auto b = resp.OnFinish(fin->first);
  CL_CHECK(b.ok(), b.status().ToString());
  node::FrameCipher& a_cipher = fin->second.cipher;
  node::FrameCipher& b_cipher = b->cipher;
  for (int steps = 0; steps < 64 && !in.empty(); ++steps) {
    const uint8_t op = in.Byte();
    node::FrameCipher& from = (op & 2) ? a_cipher : b_cipher;
    node::FrameCipher& to = (op & 2) ? b_cipher : a_cipher;
    const std::string chunk = in.Chunk();
    if (op & 1) {
      const Bytes frame = from.Seal(chunk);
      CL_CHECK(frame.size() == node::kFrameHeaderBytes + chunk.size() + node::kAeadTagBytes, "frame size");
      auto opened = to.Open(ByteView(frame).substr(0, 4), ByteView(frame).substr(4));
      CL_CHECK(opened.ok() && *opened == chunk, "a real frame opens to its plaintext");
    } else {
      const uint64_t before = to.received();
      // With bit 2 the length prefix is made consistent, so the bytes reach
      // the AEAD check instead of the framing check.
      const std::string forged = (op & 4) ? node::EncodeFrame(chunk) : chunk;
      ByteView f(forged);
      auto opened = to.Open(f.substr(0, std::min<size_t>(4, f.size())), f.size() > 4 ? f.substr(4) : ByteView());
      CL_CHECK(!opened.ok(), "a forged frame opened");
      CL_CHECK(to.received() == before, "a failed open advanced the receive counter");
    }
  }
}

void Framing(Input& in) {
  const std::string body = in.Chunk();
  const Bytes frame = node::EncodeFrame(body);
  CL_CHECK(frame.size() == node::kFrameHeaderBytes + body.size(), "frame = header + body");
  CL_CHECK(ReadBigEndian32(ByteView(frame).substr(0, 4)) == body.size(), "header is the length");
  CL_CHECK(ByteView(frame).substr(4) == body, "body follows the header");
}

}  // namespace
}  // namespace cl::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cl::fuzz::Input in(data, size);
  cl::fuzz::World& w = cl::fuzz::TheWorld();
  switch (in.Byte() % 4) {
    case 0: cl::fuzz::Responder(w, in); break;
    case 1: cl::fuzz::Initiator(w, in); break;
    case 2: cl::fuzz::Session(w, in); break;
    default: cl::fuzz::Framing(in); break;
  }
  return 0;
}
