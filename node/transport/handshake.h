// The peer-link handshake and frame encryption, as pure code: no sockets, no
// clock, no threads. The transport drives it over TCP; tests drive it in
// memory (man in the middle, replays). docs/transport.md has the byte layout.
//
// Handshake (SIGMA-style, 3 messages, each one length-prefixed frame):
//   1. initiator -> responder  HandshakeHello  {chain, ids, eph_i, nonce_i}
//   2. responder -> initiator  HandshakeReply  {eph_r, nonce_r, Sign_r(th)}
//   3. initiator -> responder  HandshakeFinish {Sign_i(th)}
// th, the transcript hash, binds the chain id, both node ids, both long-term
// public keys (from genesis), both ephemeral X25519 keys, both nonces and the
// protocol version. Each side signs it with its node key through the
// network's crypto suite, with a role label so one side's signature is never
// valid as the other's. The per-direction session keys are derived from the
// X25519 shared secret and th, so the keys are bound to everything above.
//
// Frames after the handshake are sealed with XChaCha20-Poly1305 (IETF); the
// nonce is an implicit per-direction counter, so a replayed, reordered,
// dropped or modified frame fails to open and the connection is closed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "crypto/suite.h"

namespace cl::node {

inline constexpr uint32_t kPeerProtocolVersion = 1;
// Signing-domain tag of handshake signatures (see crypto/domain.h for the others).
inline constexpr std::string_view kPeerTag{"certledger/peer/v1\0", 19};
// A frame is a 4-byte big-endian body length followed by the body.
inline constexpr size_t kFrameHeaderBytes = 4;
// Handshake frames are small; anything bigger is refused before allocating.
inline constexpr size_t kMaxHandshakeFrameBytes = 4096;
// Poly1305 tag appended to every sealed frame body.
inline constexpr size_t kAeadTagBytes = 16;

// 4-byte big-endian length || body.
Bytes EncodeFrame(ByteView body);

// Who we are, for handshakes. Borrowed: suite and key must outlive every
// Initiator/Responder made from it.
struct PeerIdentity {
  NodeId id;
  std::string chain_id;
  const crypto::Suite* suite = nullptr;
  const crypto::SecretKey* secret_key = nullptr;
  Bytes public_key;
};

// Sealing and opening of the frames of one authenticated connection.
// Move-only; the keys are wiped on destruction.
class FrameCipher {
 public:
  FrameCipher(Bytes send_key, Bytes recv_key);
  FrameCipher(FrameCipher&&) noexcept = default;
  FrameCipher& operator=(FrameCipher&&) noexcept = default;
  ~FrameCipher();

  // A complete wire frame (header || ciphertext || tag) carrying `plaintext`.
  // The header is the associated data. Advances the send counter.
  Bytes Seal(ByteView plaintext);
  // Opens the body of the next received frame (`header` is its 4-byte length
  // prefix). CORRUPTION if it does not authenticate, e.g. a modified, replayed
  // or reordered frame; the receive counter advances only on success.
  Result<Bytes> Open(ByteView header, ByteView body);

  uint64_t sent() const { return send_counter_; }
  uint64_t received() const { return recv_counter_; }

 private:
  Bytes send_key_;
  Bytes recv_key_;
  uint64_t send_counter_ = 0;
  uint64_t recv_counter_ = 0;
};

struct Session {
  NodeId peer;
  FrameCipher cipher;
};

// The dialling side of one handshake. Single use.
class HandshakeInitiator {
 public:
  // Prepares to reach node `responder` whose genesis key is `responder_key`.
  HandshakeInitiator(const PeerIdentity& self, NodeId responder, Bytes responder_key);
  ~HandshakeInitiator();
  HandshakeInitiator(const HandshakeInitiator&) = delete;
  HandshakeInitiator& operator=(const HandshakeInitiator&) = delete;

  // The body of message 1 (serialized HandshakeHello).
  Bytes Hello();
  // Consumes the body of message 2. On success returns the body of message 3
  // and the session. UNAUTHENTICATED if the responder is not who we dialled
  // or its signature is bad; INVALID_ARGUMENT if the message is malformed.
  Result<std::pair<Bytes, Session>> OnReply(ByteView reply);

 private:
  const PeerIdentity& self_;
  NodeId responder_;
  Bytes responder_key_;
  Bytes eph_pk_, eph_sk_, nonce_, hello_;
};

// The accepting side of one handshake. Single use.
class HandshakeResponder {
 public:
  // `key_of` returns the genesis public key of a node id, or nullopt if the
  // id is not a known peer.
  using KeyLookup = std::function<std::optional<Bytes>(NodeId)>;
  HandshakeResponder(const PeerIdentity& self, KeyLookup key_of);
  ~HandshakeResponder();
  HandshakeResponder(const HandshakeResponder&) = delete;
  HandshakeResponder& operator=(const HandshakeResponder&) = delete;

  // Consumes message 1 and returns the body of message 2. UNAUTHENTICATED for
  // an unknown initiator id; PERMISSION_DENIED for another chain or node;
  // INVALID_ARGUMENT for a malformed message or an unsupported version.
  Result<Bytes> OnHello(ByteView hello);
  // Consumes message 3. UNAUTHENTICATED if the signature does not verify
  // (e.g. a Finish replayed from another connection).
  Result<Session> OnFinish(ByteView finish);

  // The initiator's claimed id (valid after OnHello succeeded).
  NodeId initiator() const { return initiator_; }

 private:
  const PeerIdentity& self_;
  KeyLookup key_of_;
  NodeId initiator_;
  Bytes initiator_key_;
  Bytes eph_pk_, eph_sk_, transcript_;
  Bytes send_key_, recv_key_;
};

}  // namespace cl::node
