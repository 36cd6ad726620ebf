// Key files (format in keyfile.h and docs/crypto.md).
#include "crypto/keyfile.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE (glibc, _GNU_SOURCE)
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "crypto/suites_internal.h"

namespace cl::crypto {
namespace {

constexpr std::string_view kMagic = "certledger-key-file v";
constexpr std::string_view kVersion = "1";
constexpr std::string_view kKdfName = "argon2id13";
constexpr std::string_view kAeadName = "xchacha20poly1305-ietf";
constexpr size_t kSaltBytes = crypto_pwhash_SALTBYTES;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kAeadKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;

// Field names in file order, after the version line. The AEAD's associated
// data ends where kSecretField's line starts.
constexpr std::array<std::string_view, 9> kFields = {
    "suite", "public-key", "kdf", "kdf-opslimit", "kdf-memlimit", "kdf-salt", "aead", "nonce",
    "secret-key"};
constexpr std::string_view kCheckField = "check";

const unsigned char* U(ByteView v) { return reinterpret_cast<const unsigned char*>(v.data()); }
unsigned char* U(Bytes& v) { return reinterpret_cast<unsigned char*>(v.data()); }

std::string ErrnoText(int err) { return std::strerror(err); }

Status CheckCost(const KeyFileCost& cost) {
  if (cost.opslimit < crypto_pwhash_OPSLIMIT_MIN || cost.opslimit > kKeyFileMaxOpslimit)
    return InvalidArgument("argon2id opslimit " + std::to_string(cost.opslimit) +
                           " outside [1, " + std::to_string(kKeyFileMaxOpslimit) + "]");
  if (cost.memlimit_bytes < crypto_pwhash_MEMLIMIT_MIN ||
      cost.memlimit_bytes > kKeyFileMaxMemlimitBytes)
    return InvalidArgument("argon2id memlimit " + std::to_string(cost.memlimit_bytes) +
                           " bytes outside [8192, 4 GiB]");
  return Status::Ok();
}

Status CheckPassphrase(std::string_view passphrase) {
  if (passphrase.empty()) return InvalidArgument("the passphrase is empty");
  if (passphrase.size() > kMaxPassphraseBytes)
    return InvalidArgument("the passphrase is longer than " + std::to_string(kMaxPassphraseBytes) +
                           " bytes");
  return Status::Ok();
}

Digest Sha256(ByteView data) {
  Digest d;
  crypto_hash_sha256(d.bytes.data(), U(data), data.size());
  return d;
}

// The AEAD key from the passphrase; RESOURCE_EXHAUSTED if Argon2id cannot get
// its memory. The caller wipes the result.
Result<Bytes> DeriveKey(std::string_view passphrase, ByteView salt, const KeyFileCost& cost) {
  Bytes key(kAeadKeyBytes, '\0');
  if (crypto_pwhash(U(key), key.size(), passphrase.data(), passphrase.size(), U(salt),
                    cost.opslimit, static_cast<size_t>(cost.memlimit_bytes),
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    return ResourceExhausted("argon2id could not allocate " +
                             std::to_string(cost.memlimit_bytes) + " bytes");
  return key;
}

struct ParsedKeyFile {
  KeyFileInfo info;
  Bytes salt;
  Bytes nonce;
  Bytes ciphertext;
  size_t aad_size = 0;  // bytes of the file before the secret-key line
};

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Result<ParsedKeyFile> Parse(ByteView file) {
  if (file.size() > kKeyFileMaxBytes) return Corruption("not a key file (too large)");
  // Version first, so a newer layout gets a precise answer.
  const size_t first_nl = file.find('\n');
  const std::string_view first = file.substr(0, first_nl);
  if (!first.starts_with(kMagic)) return Corruption("not a certledger key file");
  if (first.substr(kMagic.size()) != kVersion)
    return Unimplemented("key file version '" + std::string(first.substr(kMagic.size())) +
                         "' is not supported (this build reads v" + std::string(kVersion) + ")");
  if (first_nl == std::string_view::npos) return Corruption("key file is truncated");
  // The checksum line ends the file; without it the file was cut short.
  if (!file.ends_with('\n')) return Corruption("key file is truncated (no final newline)");
  const size_t check_start = file.rfind('\n', file.size() - 2) + 1;
  const std::string_view check_line = file.substr(check_start, file.size() - 1 - check_start);
  const std::string check_prefix = std::string(kCheckField) + ": ";
  if (!check_line.starts_with(check_prefix)) return Corruption("key file is truncated (no check line)");
  const std::string_view check_hex = check_line.substr(check_prefix.size());
  if (!Digest::FromHex(check_hex)) return Corruption("key file check line is malformed");
  // Compared as text: lower-case hex only, so every key file has one spelling.
  if (Sha256(file.substr(0, check_start)).ToHex() != check_hex)
    return Corruption("key file is damaged (checksum mismatch)");

  // The body: one "name: value" line per field, in order.
  std::array<std::string_view, kFields.size()> values;
  size_t pos = first_nl + 1;
  ParsedKeyFile out;
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (kFields[i] == "secret-key") out.aad_size = pos;
    const size_t nl = file.find('\n', pos);
    if (nl == std::string_view::npos || nl >= check_start)
      return Corruption("key file lacks the '" + std::string(kFields[i]) + "' line");
    const std::string_view line = file.substr(pos, nl - pos);
    const std::string prefix = std::string(kFields[i]) + ": ";
    if (!line.starts_with(prefix))
      return Corruption("key file line " + std::to_string(i + 2) + " should be '" +
                        std::string(kFields[i]) + "'");
    values[i] = line.substr(prefix.size());
    pos = nl + 1;
  }
  if (pos != check_start) return Corruption("key file has unexpected lines before 'check'");

  auto b64 = [](std::string_view v, std::string_view name) -> Result<Bytes> {
    // Only the canonical form (standard alphabet, with padding) is accepted, so
    // every key file has exactly one spelling.
    auto raw = FromBase64(v);
    if (!raw || ToBase64(*raw) != v)
      return Corruption("key file field '" + std::string(name) + "' is not base64");
    return std::move(*raw);
  };
  out.info.suite = std::string(values[0]);
  CL_ASSIGN_OR_RETURN(out.info.public_key, b64(values[1], kFields[1]));
  if (values[2] != kKdfName) return Corruption("key file uses unknown kdf '" + std::string(values[2]) + "'");
  auto ops = ParseU64(values[3]);
  auto mem = ParseU64(values[4]);
  if (!ops || !mem) return Corruption("key file kdf cost is not a number");
  out.info.cost = {.opslimit = *ops, .memlimit_bytes = *mem};
  if (Status s = CheckCost(out.info.cost); !s.ok())
    return Corruption("key file kdf cost is implausible: " + s.message());
  CL_ASSIGN_OR_RETURN(out.salt, b64(values[5], kFields[5]));
  if (out.salt.size() != kSaltBytes) return Corruption("key file salt has the wrong size");
  if (values[6] != kAeadName) return Corruption("key file uses unknown aead '" + std::string(values[6]) + "'");
  CL_ASSIGN_OR_RETURN(out.nonce, b64(values[7], kFields[7]));
  if (out.nonce.size() != kNonceBytes) return Corruption("key file nonce has the wrong size");
  CL_ASSIGN_OR_RETURN(out.ciphertext, b64(values[8], kFields[8]));
  if (out.ciphertext.size() <= kTagBytes) return Corruption("key file secret key is too short");
  return out;
}

// ---- files ----

// Reads a small secret file, refusing anything but a regular file of mode
// 0600 or narrower.
Result<Bytes> ReadPrivateFile(const std::string& path, std::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound(std::string(what) + " " + path + " does not exist");
    if (err == EACCES) return PermissionDenied("cannot read " + std::string(what) + " " + path);
    return IoError("open " + path + ": " + ErrnoText(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return IoError("stat " + path + ": " + ErrnoText(errno));
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDenied(std::string(what) + " " + path + " has mode " + mode +
                            "; it must not be accessible by group or others (chmod 600 " + path +
                            ")");
  }
  if (static_cast<uint64_t>(st.st_size) > kKeyFileMaxBytes)
    return Corruption(std::string(what) + " " + path + " is too large");
  Bytes data;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("read " + path + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kKeyFileMaxBytes) return Corruption(std::string(what) + " " + path + " is too large");
  }
  return data;
}

Status WriteAll(int fd, ByteView data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write " + path + ": " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open directory " + dir + ": " + ErrnoText(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("fsync directory " + dir + ": " + ErrnoText(err));
  return Status::Ok();
}

// Moves tmp to path; without overwrite, fails with ALREADY_EXISTS rather than
// replace an existing file (renameat2 RENAME_NOREPLACE, or link+unlink on file
// systems without it).
Status Publish(const std::string& tmp, const std::string& path, bool overwrite) {
  if (overwrite) {
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      return IoError("rename to " + path + ": " + ErrnoText(errno));
    return Status::Ok();
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0)
    return Status::Ok();
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {
    if (::link(tmp.c_str(), path.c_str()) == 0) {
      ::unlink(tmp.c_str());
      return Status::Ok();
    }
    err = errno;
  }
  if (err == EEXIST) return AlreadyExists("key file " + path + " already exists");
  return IoError("rename to " + path + ": " + ErrnoText(err));
}

std::string_view FirstLine(std::string_view text) {
  text = text.substr(0, text.find('\n'));
  if (text.ends_with('\r')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<Bytes> EncodeKeyFile(const Suite& suite, const KeyPair& key, std::string_view passphrase,
                            const KeyFileCost& cost) {
  EnsureSodium();
  CL_RETURN_IF_ERROR(CheckPassphrase(passphrase));
  CL_RETURN_IF_ERROR(CheckCost(cost));
  auto pub = suite.PublicKeyOf(key.secret_key);
  if (!pub.ok()) return InvalidArgument("not a " + std::string(suite.name()) + " secret key: " + pub.status().message());
  if (*pub != key.public_key)
    return InvalidArgument("the public key does not belong to the secret key");

  Bytes salt(kSaltBytes, '\0'), nonce(kNonceBytes, '\0');
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());

  Bytes out = std::string(kMagic) + std::string(kVersion) + "\n";
  auto field = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\n");
  };
  field("suite", suite.name());
  field("public-key", ToBase64(key.public_key));
  field("kdf", kKdfName);
  field("kdf-opslimit", std::to_string(cost.opslimit));
  field("kdf-memlimit", std::to_string(cost.memlimit_bytes));
  field("kdf-salt", ToBase64(salt));
  field("aead", kAeadName);
  field("nonce", ToBase64(nonce));
  const Bytes aad = out;

  CL_ASSIGN_OR_RETURN(Bytes aead_key, DeriveKey(passphrase, salt, cost));
  const ByteView plain = key.secret_key.bytes();
  Bytes sealed(plain.size() + kTagBytes, '\0');
  unsigned long long sealed_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(U(sealed), &sealed_size, U(plain), plain.size(),
                                             U(aad), aad.size(), nullptr, U(nonce), U(aead_key));
  sodium_memzero(aead_key.data(), aead_key.size());
  CL_CHECK_EQ(sealed_size, sealed.size(), "xchacha20poly1305 output size");

  field("secret-key", ToBase64(sealed));
  field(kCheckField, Sha256(out).ToHex());
  return out;
}

Result<KeyFileInfo> ParseKeyFile(ByteView file) {
  CL_ASSIGN_OR_RETURN(ParsedKeyFile parsed, Parse(file));
  return std::move(parsed.info);
}

Result<KeyPair> DecodeKeyFile(const Suite& suite, ByteView file, std::string_view passphrase) {
  EnsureSodium();
  CL_ASSIGN_OR_RETURN(ParsedKeyFile parsed, Parse(file));
  if (parsed.info.suite != suite.name())
    return FailedPrecondition("key file holds a " + parsed.info.suite + " key, not " +
                              std::string(suite.name()));
  if (parsed.info.public_key.size() != suite.public_key_size())
    return Corruption("key file public key has the wrong size for " + std::string(suite.name()));
  if (passphrase.empty()) return InvalidArgument("the passphrase is empty");

  CL_ASSIGN_OR_RETURN(Bytes aead_key, DeriveKey(passphrase, parsed.salt, parsed.info.cost));
  Bytes plain(parsed.ciphertext.size() - kTagBytes, '\0');
  unsigned long long plain_size = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      U(plain), &plain_size, nullptr, U(parsed.ciphertext), parsed.ciphertext.size(),
      U(file.substr(0, parsed.aad_size)), parsed.aad_size, U(parsed.nonce), U(aead_key));
  sodium_memzero(aead_key.data(), aead_key.size());
  SecretKey secret(std::move(plain));  // wiped on every path from here
  if (rc != 0)
    return Unauthenticated("wrong passphrase for the key file (or its contents were altered)");
  auto pub = suite.PublicKeyOf(secret);
  if (!pub.ok() || *pub != parsed.info.public_key)
    return Corruption("key file secret key does not match its public key");
  return KeyPair{std::move(parsed.info.public_key), std::move(secret)};
}

Status WriteKeyFile(const std::string& path, const Suite& suite, const KeyPair& key,
                    std::string_view passphrase, const KeyFileWriteOptions& options) {
  struct stat st {};
  if (!options.overwrite && ::lstat(path.c_str(), &st) == 0)
    return AlreadyExists("key file " + path + " already exists");
  CL_ASSIGN_OR_RETURN(Bytes data, EncodeKeyFile(suite, key, passphrase, options.cost));

  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // creates with mode 0600
  if (fd < 0) return IoError("create a temporary file next to " + path + ": " + ErrnoText(errno));
  Status s = Status::Ok();
  if (::fchmod(fd, 0600) != 0) s = IoError("chmod " + tmp + ": " + ErrnoText(errno));
  if (s.ok()) s = WriteAll(fd, data, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = IoError("fsync " + tmp + ": " + ErrnoText(errno));
  if (::close(fd) != 0 && s.ok()) s = IoError("close " + tmp + ": " + ErrnoText(errno));
  if (s.ok()) s = Publish(tmp, path, options.overwrite);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDirectory(dir);
}

Result<KeyPair> ReadKeyFile(const std::string& path, const Suite& suite,
                            std::string_view passphrase) {
  CL_ASSIGN_OR_RETURN(Bytes data, ReadPrivateFile(path, "key file"));
  auto key = DecodeKeyFile(suite, data, passphrase);
  sodium_memzero(data.data(), data.size());
  if (!key.ok()) return key.status().WithContext(path);
  return key;
}

Result<KeyFileInfo> InspectKeyFile(const std::string& path) {
  CL_ASSIGN_OR_RETURN(Bytes data, ReadPrivateFile(path, "key file"));
  auto info = ParseKeyFile(data);
  if (!info.ok()) return info.status().WithContext(path);
  return info;
}

// ---- passphrases ----

Passphrase::Passphrase(Passphrase&& other) noexcept : text_(std::move(other.text_)) {
  sodium_memzero(other.text_.data(), other.text_.size());
  other.text_.clear();
}

Passphrase& Passphrase::operator=(Passphrase&& other) noexcept {
  if (this != &other) {
    sodium_memzero(text_.data(), text_.size());
    text_ = std::move(other.text_);
    sodium_memzero(other.text_.data(), other.text_.size());
    other.text_.clear();
  }
  return *this;
}

Passphrase::~Passphrase() { sodium_memzero(text_.data(), text_.size()); }

Result<PassphraseSource> ParsePassphraseSource(std::string_view spec) {
  if (spec.starts_with("env:") && spec.size() > 4)
    return PassphraseSource{PassphraseSource::FromEnv{std::string(spec.substr(4))}};
  if (spec.starts_with("file:") && spec.size() > 5)
    return PassphraseSource{PassphraseSource::FromFile{std::string(spec.substr(5))}};
  if (spec == "prompt") return PassphraseSource{PassphraseSource::FromPrompt{}};
  return InvalidArgument("passphrase source '" + std::string(spec) +
                         "' is not env:NAME, file:PATH or prompt");
}

Result<Passphrase> PromptPassphrase(int in_fd, int out_fd, std::string_view prompt) {
  termios saved{};
  if (::tcgetattr(in_fd, &saved) != 0)
    return FailedPrecondition("cannot prompt for a passphrase: input is not a terminal");
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ICANON;
  if (::tcsetattr(in_fd, TCSAFLUSH, &quiet) != 0)
    return IoError("cannot turn terminal echo off: " + ErrnoText(errno));
  Status s = WriteAll(out_fd, prompt, "terminal");
  Passphrase result;
  std::string line;
  while (s.ok()) {
    char c;
    const ssize_t n = ::read(in_fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = IoError("read terminal: " + ErrnoText(errno));
    if (n <= 0 || c == '\n') break;
    if (line.size() > kMaxPassphraseBytes) continue;  // keep draining the line
    line.push_back(c);
  }
  ::tcsetattr(in_fd, TCSAFLUSH, &saved);
  (void)WriteAll(out_fd, "\n", "terminal");
  if (line.ends_with('\r')) line.pop_back();
  result = Passphrase(std::move(line));
  CL_RETURN_IF_ERROR(s);
  CL_RETURN_IF_ERROR(CheckPassphrase(result.view()));
  return result;
}

Result<Passphrase> ReadPassphrase(const PassphraseSource& source) {
  EnsureSodium();
  if (const auto* env = std::get_if<PassphraseSource::FromEnv>(&source.from)) {
    const char* value = std::getenv(env->variable.c_str());
    if (value == nullptr) return NotFound("environment variable " + env->variable + " is not set");
    Passphrase p{std::string(value)};
    CL_RETURN_IF_ERROR(CheckPassphrase(p.view()).WithContext("environment variable " + env->variable));
    return p;
  }
  if (const auto* file = std::get_if<PassphraseSource::FromFile>(&source.from)) {
    CL_ASSIGN_OR_RETURN(Bytes data, ReadPrivateFile(file->path, "passphrase file"));
    Passphrase p{std::string(FirstLine(data))};
    sodium_memzero(data.data(), data.size());
    CL_RETURN_IF_ERROR(CheckPassphrase(p.view()).WithContext("passphrase file " + file->path));
    return p;
  }
  const auto& prompt = std::get<PassphraseSource::FromPrompt>(source.from);
  const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0)
    return FailedPrecondition(
        "no terminal to prompt for a passphrase; use env:NAME or file:PATH instead");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{tty};
  CL_ASSIGN_OR_RETURN(Passphrase first, PromptPassphrase(tty, tty, prompt.prompt));
  if (prompt.confirm) {
    CL_ASSIGN_OR_RETURN(Passphrase again, PromptPassphrase(tty, tty, "Repeat passphrase: "));
    if (!ConstantTimeEqual(first.view(), again.view()))
      return InvalidArgument("the passphrases do not match");
  }
  return first;
}

}  // namespace cl::crypto
