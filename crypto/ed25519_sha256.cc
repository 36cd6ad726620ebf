// The default suite: Ed25519 signatures and SHA-256 hashes, from libsodium.
#include <sodium.h>

#include "base/check.h"
#include "crypto/suites_internal.h"

namespace cl::crypto {

void EnsureSodium() {
  static const int rc = sodium_init();  // thread-safe static init; sodium_init is idempotent
  CL_CHECK(rc >= 0, "libsodium failed to initialize");
}

namespace {

// A default ByteView has a null data(); C APIs may not be passed null even with
// length 0 (UBSan flags it), so empty views map to a valid empty buffer.
const unsigned char* U(ByteView v) {
  static const unsigned char kEmpty[1] = {0};
  return v.data() == nullptr ? kEmpty : reinterpret_cast<const unsigned char*>(v.data());
}

class Ed25519Sha256 final : public Suite {
 public:
  Ed25519Sha256() { EnsureSodium(); }

  std::string_view name() const override { return "ed25519-sha256"; }
  size_t public_key_size() const override { return crypto_sign_PUBLICKEYBYTES; }
  size_t signature_size() const override { return crypto_sign_BYTES; }

  Digest HashParts(std::span<const ByteView> parts) const override {
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (ByteView p : parts) crypto_hash_sha256_update(&st, U(p), p.size());
    Digest d;
    crypto_hash_sha256_final(&st, d.bytes.data());
    return d;
  }

  Digest KeyedHash(ByteView key, ByteView data) const override {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, U(key), key.size());
    crypto_auth_hmacsha256_update(&st, U(data), data.size());
    Digest d;
    crypto_auth_hmacsha256_final(&st, d.bytes.data());
    return d;
  }

  KeyPair GenerateKey() const override {
    Bytes seed(crypto_sign_SEEDBYTES, '\0');
    randombytes_buf(seed.data(), seed.size());
    auto kp = KeyFromSeed(seed);
    sodium_memzero(seed.data(), seed.size());
    CL_CHECK(kp.ok(), "ed25519 key generation failed");
    return std::move(kp).value();
  }

  // The secret key is libsodium's 64-byte form (seed || public key), so signing
  // needs no key expansion; PublicKeyOf checks the two halves agree.
  Result<KeyPair> KeyFromSeed(ByteView seed) const override {
    if (seed.size() != crypto_sign_SEEDBYTES)
      return InvalidArgument("ed25519 seed must be 32 bytes, got " + std::to_string(seed.size()));
    Bytes pk(crypto_sign_PUBLICKEYBYTES, '\0');
    Bytes sk(crypto_sign_SECRETKEYBYTES, '\0');
    crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pk.data()),
                             reinterpret_cast<unsigned char*>(sk.data()), U(seed));
    return KeyPair{std::move(pk), SecretKey(std::move(sk))};
  }

  Result<Bytes> PublicKeyOf(const SecretKey& secret) const override {
    if (secret.bytes().size() != crypto_sign_SECRETKEYBYTES)
      return InvalidArgument("not an ed25519 secret key (wrong size)");
    CL_ASSIGN_OR_RETURN(KeyPair kp, KeyFromSeed(secret.bytes().substr(0, crypto_sign_SEEDBYTES)));
    if (!ConstantTimeEqual(kp.secret_key.bytes(), secret.bytes()))
      return InvalidArgument("not an ed25519 secret key (halves disagree)");
    return std::move(kp.public_key);
  }

  Result<Bytes> Sign(const SecretKey& secret, ByteView message) const override {
    if (secret.bytes().size() != crypto_sign_SECRETKEYBYTES)
      return InvalidArgument("not an ed25519 secret key");
    Bytes sig(crypto_sign_BYTES, '\0');
    crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, U(message),
                         message.size(), U(secret.bytes()));
    return sig;
  }

  bool Verify(ByteView public_key, ByteView message, ByteView signature) const override {
    if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES)
      return false;
    return crypto_sign_verify_detached(U(signature), U(message), message.size(), U(public_key)) == 0;
  }
};

}  // namespace

std::shared_ptr<const Suite> MakeEd25519Sha256() { return std::make_shared<Ed25519Sha256>(); }

}  // namespace cl::crypto
