#include "node/transport/handshake.h"

#include <sodium.h>

#include "proto/peer.pb.h"

namespace cl::node {
namespace {

constexpr size_t kEphBytes = crypto_scalarmult_BYTES;  // X25519 public key, 32
constexpr size_t kNonceBytes = 32;
constexpr size_t kSessionKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kAeadTagBytes);
static_assert(crypto_kx_PUBLICKEYBYTES == kEphBytes && crypto_kx_SECRETKEYBYTES == kEphBytes);

void EnsureSodium() {
  static const int rc = sodium_init();
  CL_CHECK(rc >= 0, "sodium_init failed");
}

unsigned char* U(Bytes& b) { return reinterpret_cast<unsigned char*>(b.data()); }
const unsigned char* U(ByteView b) { return reinterpret_cast<const unsigned char*>(b.data()); }

void Wipe(Bytes& b) {
  if (!b.empty()) sodium_memzero(b.data(), b.size());
  b.clear();
}

Bytes RandomBytes(size_t n) {
  Bytes b(n, '\0');
  randombytes_buf(b.data(), n);
  return b;
}

void AppendLengthPrefixed(Bytes* out, ByteView v) {
  PutBigEndian32(out, static_cast<uint32_t>(v.size()));
  out->append(v);
}

struct TranscriptInput {
  std::string_view chain_id;
  NodeId initiator, responder;
  ByteView initiator_key, responder_key;  // long-term (genesis) public keys
  ByteView eph_i, eph_r, nonce_i, nonce_r;
};

// The exact layout is in docs/transport.md ("Transcript hash").
Bytes TranscriptHash(const crypto::Suite& suite, const TranscriptInput& in) {
  Bytes m(kPeerTag);
  m += "transcript";
  PutBigEndian32(&m, kPeerProtocolVersion);
  AppendLengthPrefixed(&m, in.chain_id);
  PutBigEndian64(&m, in.initiator.value());
  PutBigEndian64(&m, in.responder.value());
  AppendLengthPrefixed(&m, in.initiator_key);
  AppendLengthPrefixed(&m, in.responder_key);
  m.append(in.eph_i);
  m.append(in.eph_r);
  m.append(in.nonce_i);
  m.append(in.nonce_r);
  return suite.Hash(m).ToBytes();
}

Bytes SignedMessage(std::string_view role, ByteView transcript) {
  Bytes m(kPeerTag);
  m += role;
  m.append(transcript);
  return m;
}

// Session keys (initiator->responder, responder->initiator) from the X25519
// shared secret, bound to the transcript. INVALID_ARGUMENT for a low-order
// peer key (the shared secret would be all zeros).
Result<std::pair<Bytes, Bytes>> DeriveKeys(ByteView eph_sk, ByteView peer_eph_pk, ByteView transcript) {
  Bytes shared(crypto_scalarmult_BYTES, '\0');
  if (crypto_scalarmult(U(shared), U(eph_sk), U(peer_eph_pk)) != 0) {
    Wipe(shared);
    return InvalidArgument("peer ephemeral key is a low-order point");
  }
  auto derive = [&](std::string_view label) {
    Bytes in(label);
    in.append(transcript);
    Bytes k(kSessionKeyBytes, '\0');
    crypto_generichash(U(k), k.size(), U(in), in.size(), U(shared), shared.size());
    return k;
  };
  std::pair<Bytes, Bytes> keys{derive("certledger/peer/v1 i2r"), derive("certledger/peer/v1 r2i")};
  Wipe(shared);
  return keys;
}

void NewEphemeral(Bytes* pk, Bytes* sk) {
  pk->assign(kEphBytes, '\0');
  sk->assign(kEphBytes, '\0');
  crypto_kx_keypair(U(*pk), U(*sk));
}

}  // namespace

Bytes EncodeFrame(ByteView body) {
  Bytes f;
  f.reserve(kFrameHeaderBytes + body.size());
  PutBigEndian32(&f, static_cast<uint32_t>(body.size()));
  f.append(body);
  return f;
}

// ------------------------------------------------------------------ FrameCipher

FrameCipher::FrameCipher(Bytes send_key, Bytes recv_key)
    : send_key_(std::move(send_key)), recv_key_(std::move(recv_key)) {
  EnsureSodium();
  CL_CHECK(send_key_.size() == kSessionKeyBytes && recv_key_.size() == kSessionKeyBytes,
           "session keys must be 32 bytes");
}

FrameCipher::~FrameCipher() {
  Wipe(send_key_);
  Wipe(recv_key_);
}

namespace {
// 24-byte XChaCha nonce: 16 zero bytes || 64-bit big-endian frame counter.
std::array<unsigned char, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> CounterNonce(uint64_t c) {
  std::array<unsigned char, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> n{};
  for (int i = 0; i < 8; ++i) n[n.size() - 1 - i] = static_cast<unsigned char>(c >> (8 * i));
  return n;
}
}  // namespace

Bytes FrameCipher::Seal(ByteView plaintext) {
  CL_CHECK(send_counter_ != UINT64_MAX, "frame counter exhausted");
  Bytes frame;
  const size_t body = plaintext.size() + kAeadTagBytes;
  frame.resize(kFrameHeaderBytes + body);
  Bytes header;
  PutBigEndian32(&header, static_cast<uint32_t>(body));
  frame.replace(0, kFrameHeaderBytes, header);
  auto nonce = CounterNonce(send_counter_++);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      U(frame) + kFrameHeaderBytes, &clen, U(plaintext), plaintext.size(), U(header),
      header.size(), nullptr, nonce.data(), U(send_key_));
  CL_CHECK(clen == body, "AEAD output size");
  return frame;
}

Result<Bytes> FrameCipher::Open(ByteView header, ByteView body) {
  if (header.size() != kFrameHeaderBytes || body.size() < kAeadTagBytes ||
      ReadBigEndian32(header) != body.size()) {
    return Corruption("malformed sealed frame");
  }
  Bytes plain(body.size() - kAeadTagBytes, '\0');
  auto nonce = CounterNonce(recv_counter_);
  unsigned long long plen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(U(plain), &plen, nullptr, U(body), body.size(),
                                                 U(header), header.size(), nonce.data(),
                                                 U(recv_key_)) != 0) {
    return Corruption("frame failed authentication (modified, replayed or reordered)");
  }
  ++recv_counter_;
  return plain;
}

// ------------------------------------------------------------------ initiator

HandshakeInitiator::HandshakeInitiator(const PeerIdentity& self, NodeId responder,
                                       Bytes responder_key)
    : self_(self), responder_(responder), responder_key_(std::move(responder_key)) {
  EnsureSodium();
  CL_CHECK(self.suite != nullptr && self.secret_key != nullptr, "PeerIdentity is incomplete");
}

HandshakeInitiator::~HandshakeInitiator() { Wipe(eph_sk_); }

Bytes HandshakeInitiator::Hello() {
  NewEphemeral(&eph_pk_, &eph_sk_);
  nonce_ = RandomBytes(kNonceBytes);
  certledger::peer::HandshakeHello h;
  h.set_version(kPeerProtocolVersion);
  h.set_chain_id(self_.chain_id);
  h.set_initiator_id(self_.id.value());
  h.set_responder_id(responder_.value());
  h.set_ephemeral_key(eph_pk_);
  h.set_nonce(nonce_);
  hello_ = h.SerializeAsString();
  return hello_;
}

Result<std::pair<Bytes, Session>> HandshakeInitiator::OnReply(ByteView reply) {
  CL_CHECK(!eph_sk_.empty(), "OnReply before Hello, or called twice");
  certledger::peer::HandshakeReply r;
  if (!r.ParseFromArray(reply.data(), static_cast<int>(reply.size())))
    return InvalidArgument("handshake reply does not decode");
  if (r.version() != kPeerProtocolVersion)
    return InvalidArgument("unsupported peer protocol version " + std::to_string(r.version()));
  if (NodeId(r.responder_id()) != responder_)
    return Unauthenticated("responder claims node " + std::to_string(r.responder_id()) +
                           ", dialled node " + std::to_string(responder_.value()));
  if (r.ephemeral_key().size() != kEphBytes || r.nonce().size() != kNonceBytes)
    return InvalidArgument("handshake reply has a malformed key or nonce");
  Bytes th = TranscriptHash(*self_.suite, {.chain_id = self_.chain_id,
                                           .initiator = self_.id,
                                           .responder = responder_,
                                           .initiator_key = self_.public_key,
                                           .responder_key = responder_key_,
                                           .eph_i = eph_pk_,
                                           .eph_r = r.ephemeral_key(),
                                           .nonce_i = nonce_,
                                           .nonce_r = r.nonce()});
  if (!self_.suite->Verify(responder_key_, SignedMessage("responder", th), r.signature()))
    return Unauthenticated("responder signature does not verify with node " +
                           std::to_string(responder_.value()) + "'s key");
  auto keys = DeriveKeys(eph_sk_, r.ephemeral_key(), th);
  Wipe(eph_sk_);
  CL_RETURN_IF_ERROR(keys);
  CL_ASSIGN_OR_RETURN(Bytes sig, self_.suite->Sign(*self_.secret_key, SignedMessage("initiator", th)));
  certledger::peer::HandshakeFinish f;
  f.set_signature(sig);
  auto& [i2r, r2i] = *keys;
  return std::pair<Bytes, Session>(f.SerializeAsString(),
                                   Session{responder_, FrameCipher(std::move(i2r), std::move(r2i))});
}

// ------------------------------------------------------------------ responder

HandshakeResponder::HandshakeResponder(const PeerIdentity& self, KeyLookup key_of)
    : self_(self), key_of_(std::move(key_of)) {
  EnsureSodium();
  CL_CHECK(self.suite != nullptr && self.secret_key != nullptr, "PeerIdentity is incomplete");
}

HandshakeResponder::~HandshakeResponder() {
  Wipe(eph_sk_);
  Wipe(send_key_);
  Wipe(recv_key_);
}

Result<Bytes> HandshakeResponder::OnHello(ByteView hello) {
  CL_CHECK(transcript_.empty(), "OnHello called twice");
  certledger::peer::HandshakeHello h;
  if (!h.ParseFromArray(hello.data(), static_cast<int>(hello.size())))
    return InvalidArgument("handshake hello does not decode");
  if (h.version() != kPeerProtocolVersion)
    return InvalidArgument("unsupported peer protocol version " + std::to_string(h.version()));
  if (h.chain_id() != self_.chain_id)
    return PermissionDenied("peer is on chain '" + h.chain_id() + "', not '" + self_.chain_id + "'");
  if (NodeId(h.responder_id()) != self_.id)
    return PermissionDenied("peer dialled node " + std::to_string(h.responder_id()) +
                            ", this is node " + std::to_string(self_.id.value()));
  NodeId initiator(h.initiator_id());
  std::optional<Bytes> key = initiator == self_.id ? std::nullopt : key_of_(initiator);
  if (!key) return Unauthenticated("unknown peer node id " + std::to_string(h.initiator_id()));
  if (h.ephemeral_key().size() != kEphBytes || h.nonce().size() != kNonceBytes)
    return InvalidArgument("handshake hello has a malformed key or nonce");

  initiator_ = initiator;
  initiator_key_ = std::move(*key);
  NewEphemeral(&eph_pk_, &eph_sk_);
  Bytes nonce = RandomBytes(kNonceBytes);
  transcript_ = TranscriptHash(*self_.suite, {.chain_id = self_.chain_id,
                                              .initiator = initiator_,
                                              .responder = self_.id,
                                              .initiator_key = initiator_key_,
                                              .responder_key = self_.public_key,
                                              .eph_i = h.ephemeral_key(),
                                              .eph_r = eph_pk_,
                                              .nonce_i = h.nonce(),
                                              .nonce_r = nonce});
  auto keys = DeriveKeys(eph_sk_, h.ephemeral_key(), transcript_);
  Wipe(eph_sk_);
  CL_RETURN_IF_ERROR(keys);
  recv_key_ = std::move(keys->first);
  send_key_ = std::move(keys->second);
  CL_ASSIGN_OR_RETURN(Bytes sig,
                      self_.suite->Sign(*self_.secret_key, SignedMessage("responder", transcript_)));
  certledger::peer::HandshakeReply r;
  r.set_version(kPeerProtocolVersion);
  r.set_responder_id(self_.id.value());
  r.set_ephemeral_key(eph_pk_);
  r.set_nonce(nonce);
  r.set_signature(sig);
  return r.SerializeAsString();
}

Result<Session> HandshakeResponder::OnFinish(ByteView finish) {
  CL_CHECK(!transcript_.empty() && !send_key_.empty(), "OnFinish before a successful OnHello");
  certledger::peer::HandshakeFinish f;
  if (!f.ParseFromArray(finish.data(), static_cast<int>(finish.size())))
    return InvalidArgument("handshake finish does not decode");
  if (!self_.suite->Verify(initiator_key_, SignedMessage("initiator", transcript_), f.signature()))
    return Unauthenticated("initiator signature does not verify with node " +
                           std::to_string(initiator_.value()) + "'s key");
  return Session{initiator_, FrameCipher(std::move(send_key_), std::move(recv_key_))};
}

}  // namespace cl::node
