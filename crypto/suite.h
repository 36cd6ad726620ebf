// The crypto suite: every hash and signature in certledger goes through it.
//
// A network picks its suite by name in genesis ("ed25519-sha256" by default,
// "sm2-sm3" for 国密 deployments). Callers never assume key or signature sizes:
// they ask the suite. All digests are 32 bytes (SHA-256 and SM3 both are).
//
// Thread-safety: a Suite is immutable after construction and safe to use from
// any number of threads at once.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/digest.h"

namespace cl::crypto {

// Secret key bytes, wiped from memory when destroyed. Move-only.
class SecretKey {
 public:
  SecretKey() = default;
  explicit SecretKey(Bytes bytes) : bytes_(std::move(bytes)) {}
  SecretKey(SecretKey&& other) noexcept : bytes_(std::move(other.bytes_)) { other.Wipe(); }
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey() { Wipe(); }

  ByteView bytes() const { return bytes_; }
  bool empty() const { return bytes_.empty(); }

 private:
  void Wipe();
  Bytes bytes_;
};

struct KeyPair {
  Bytes public_key;
  SecretKey secret_key;
};

class Suite {
 public:
  virtual ~Suite() = default;

  // The name used in genesis, e.g. "ed25519-sha256".
  virtual std::string_view name() const = 0;

  virtual size_t public_key_size() const = 0;
  virtual size_t signature_size() const = 0;

  // Hash of the concatenation of `parts` (saves copying prefixes together).
  virtual Digest HashParts(std::span<const ByteView> parts) const = 0;
  Digest Hash(ByteView data) const { return HashParts(std::span<const ByteView>(&data, 1)); }

  // Keyed hash (HMAC with the suite's hash) — used for holder_ref and number_ref.
  virtual Digest KeyedHash(ByteView key, ByteView data) const = 0;

  // A fresh key pair from the OS's secure random source.
  virtual KeyPair GenerateKey() const = 0;
  // A key pair derived deterministically from a 32-byte seed (tests, simulators,
  // reproducible dev networks). INVALID_ARGUMENT on a wrong seed size.
  virtual Result<KeyPair> KeyFromSeed(ByteView seed) const = 0;
  // The public key of a secret key; INVALID_ARGUMENT if it is not one.
  virtual Result<Bytes> PublicKeyOf(const SecretKey& secret) const = 0;

  // Signs `message`; INVALID_ARGUMENT if the secret key is malformed.
  virtual Result<Bytes> Sign(const SecretKey& secret, ByteView message) const = 0;
  // True only if `signature` is a valid signature of `message` under
  // `public_key`. Malformed keys or signatures are simply false.
  virtual bool Verify(ByteView public_key, ByteView message, ByteView signature) const = 0;
};

// The suite called `name`; INVALID_ARGUMENT naming the known suites otherwise.
Result<std::shared_ptr<const Suite>> MakeSuite(std::string_view name);

// Names of all suites this build supports.
std::vector<std::string> SuiteNames();

inline constexpr std::string_view kDefaultSuite = "ed25519-sha256";

}  // namespace cl::crypto
