// Key files: a member's or node's key pair on disk, the secret key encrypted
// with a passphrase (Argon2id + XChaCha20-Poly1305 from libsodium).
//
// The format is a short text file documented in docs/crypto.md:
//
//   certledger-key-file v1
//   suite: ed25519-sha256
//   public-key: <base64>
//   kdf: argon2id13
//   kdf-opslimit: 2
//   kdf-memlimit: 67108864
//   kdf-salt: <base64, 16 bytes>
//   aead: xchacha20poly1305-ietf
//   nonce: <base64, 24 bytes>
//   secret-key: <base64, encrypted secret key + 16-byte tag>
//   check: <hex SHA-256 of every byte above this line>
//
// The AEAD's associated data is every byte before the "secret-key:" line, so
// the suite, public key and KDF parameters cannot be altered without the
// passphrase. The "check" line is a plain checksum that tells accidental damage
// (CORRUPTION) apart from a wrong passphrase (UNAUTHENTICATED).
//
// Errors (Status codes; messages name the file and say what to do):
//   NOT_FOUND          the file does not exist
//   PERMISSION_DENIED  the file is readable or writable by group or others
//                      (anything broader than 0600 is refused, like ssh does)
//   INVALID_ARGUMENT   not a regular file; a bad argument to a write
//   ALREADY_EXISTS     writing over an existing file without overwrite
//   CORRUPTION         truncated, damaged, or not a key file; implausible KDF cost
//   UNIMPLEMENTED      a key file version this build does not know
//   FAILED_PRECONDITION the file holds a key of another suite
//   UNAUTHENTICATED    wrong passphrase (or the file was altered and re-checksummed)
//   RESOURCE_EXHAUSTED not enough memory for the KDF
//   IO_ERROR           the OS failed (message has errno text)
//
// Thread-safety: all functions are reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/suite.h"

namespace cl::crypto {

// Argon2id cost. The default is libsodium's "interactive" setting (2 passes,
// 64 MiB, ~0.1 s); ForTests() is the minimum cost, for unit tests only.
struct KeyFileCost {
  uint64_t opslimit = 2;               // crypto_pwhash_OPSLIMIT_INTERACTIVE
  uint64_t memlimit_bytes = 64 << 20;  // crypto_pwhash_MEMLIMIT_INTERACTIVE

  static KeyFileCost Interactive() { return {}; }
  // libsodium's "moderate" setting: 3 passes, 256 MiB (~0.7 s).
  static KeyFileCost Moderate() { return {.opslimit = 3, .memlimit_bytes = 256 << 20}; }
  static KeyFileCost ForTests() { return {.opslimit = 1, .memlimit_bytes = 8192}; }

  friend bool operator==(const KeyFileCost&, const KeyFileCost&) = default;
};

// Accepted bounds for a cost, on write and on read (a file asking for more is
// refused as CORRUPTION rather than allowed to exhaust the machine).
inline constexpr uint64_t kKeyFileMaxOpslimit = 64;
inline constexpr uint64_t kKeyFileMaxMemlimitBytes = uint64_t{4} << 30;  // 4 GiB
// Key files are tiny; anything larger is not one.
inline constexpr size_t kKeyFileMaxBytes = 64 * 1024;
inline constexpr size_t kMaxPassphraseBytes = 1024;

struct KeyFileWriteOptions {
  KeyFileCost cost;
  bool overwrite = false;  // ALREADY_EXISTS if the file exists and this is false
};

// What a key file says about itself without the passphrase.
struct KeyFileInfo {
  std::string suite;
  Bytes public_key;
  KeyFileCost cost;
};

// The file's bytes for `key` (which must be a key of `suite`: INVALID_ARGUMENT
// otherwise, or on an empty or over-long passphrase or an out-of-bounds cost).
// Pure except for the random salt and nonce.
Result<Bytes> EncodeKeyFile(const Suite& suite, const KeyPair& key, std::string_view passphrase,
                            const KeyFileCost& cost);
// Parses and checks the header and checksum, without decrypting.
Result<KeyFileInfo> ParseKeyFile(ByteView file);
// Parses, checks the suite, derives the key, decrypts, and checks the secret
// key matches the public key.
Result<KeyPair> DecodeKeyFile(const Suite& suite, ByteView file, std::string_view passphrase);

// Writes EncodeKeyFile's bytes to `path` atomically: a temporary file in the same
// directory (mode 0600), fsync, rename (no-replace unless overwrite), fsync of
// the directory. On error nothing is left behind and an existing file is intact.
Status WriteKeyFile(const std::string& path, const Suite& suite, const KeyPair& key,
                    std::string_view passphrase, const KeyFileWriteOptions& options = {});
// Reads `path` (refusing modes broader than 0600) and decodes it.
Result<KeyPair> ReadKeyFile(const std::string& path, const Suite& suite,
                            std::string_view passphrase);
// Reads `path` (same checks) and parses it without the passphrase.
Result<KeyFileInfo> InspectKeyFile(const std::string& path);

// A passphrase held in memory that is wiped when destroyed. Move-only.
class Passphrase {
 public:
  Passphrase() = default;
  explicit Passphrase(std::string text) : text_(std::move(text)) {}
  Passphrase(Passphrase&& other) noexcept;
  Passphrase& operator=(Passphrase&& other) noexcept;
  Passphrase(const Passphrase&) = delete;
  Passphrase& operator=(const Passphrase&) = delete;
  ~Passphrase();

  std::string_view view() const { return text_; }

 private:
  std::string text_;
};

// Where a passphrase comes from. Parse from the command line with
// ParsePassphraseSource: "env:NAME", "file:PATH", "prompt".
struct PassphraseSource {
  struct FromEnv {
    std::string variable;
  };
  // The first line of the file, without its line ending. The file must not be
  // accessible by group or others (PERMISSION_DENIED otherwise).
  struct FromFile {
    std::string path;
  };
  // Asks on the controlling terminal (/dev/tty) with echo off; with `confirm`,
  // asks twice and fails with INVALID_ARGUMENT if the answers differ.
  struct FromPrompt {
    std::string prompt = "Passphrase: ";
    bool confirm = false;
  };
  std::variant<FromEnv, FromFile, FromPrompt> from;
};

// INVALID_ARGUMENT on anything but the three forms above.
Result<PassphraseSource> ParsePassphraseSource(std::string_view spec);

// Obtains the passphrase. NOT_FOUND for an unset variable or missing file;
// INVALID_ARGUMENT for an empty or over-long passphrase; FAILED_PRECONDITION
// when prompting without a terminal.
Result<Passphrase> ReadPassphrase(const PassphraseSource& source);

// The prompt on an already open terminal: writes `prompt` to out_fd, turns echo
// off on in_fd (which must be a terminal), reads one line, restores the
// terminal, writes a newline. Exposed for tests (driven through a pty).
Result<Passphrase> PromptPassphrase(int in_fd, int out_fd, std::string_view prompt);

}  // namespace cl::crypto
