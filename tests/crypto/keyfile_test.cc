#include "crypto/keyfile.h"

#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

namespace cl::crypto {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPass = "correct horse battery staple";

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cl_keyfile_XXXXXX").string();
    CL_CHECK(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(std::string_view name) const { return (path_ / name).string(); }
  // Names of the entries in the directory.
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  fs::path path_;
};

Bytes ReadAll(const std::string& path) {
  Bytes out;
  FILE* f = std::fopen(path.c_str(), "rb");
  CL_CHECK(f != nullptr, "fopen");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

void WriteRaw(const std::string& path, ByteView data, mode_t mode = 0600) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }
  CL_CHECK(::chmod(path.c_str(), mode) == 0, "chmod");
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  CL_CHECK(::stat(path.c_str(), &st) == 0, "stat");
  return st.st_mode & 07777;
}

std::shared_ptr<const Suite> Ed() { return MakeSuite("ed25519-sha256").value(); }

const KeyFileWriteOptions kCheap{.cost = KeyFileCost::ForTests()};

// Replaces the value of one "name: value" line.
Bytes ReplaceField(Bytes file, std::string_view name, std::string_view value) {
  const std::string prefix = "\n" + std::string(name) + ": ";
  const size_t at = file.find(prefix);
  CL_CHECK(at != Bytes::npos, "no such field");
  const size_t begin = at + prefix.size();
  const size_t end = file.find('\n', begin);
  return file.replace(begin, end - begin, value);
}

// Recomputes the check line, as someone altering the file on purpose would.
Bytes FixCheck(Bytes file) {
  const size_t at = file.rfind("\ncheck: ");
  file.resize(at + 1);
  return file + "check: " + Ed()->Hash(file).ToHex() + "\n";
}

std::string FieldValue(const Bytes& file, std::string_view name) {
  const std::string prefix = "\n" + std::string(name) + ": ";
  const size_t begin = file.find(prefix) + prefix.size();
  return file.substr(begin, file.find('\n', begin) - begin);
}

// ---------------------------------------------------------------------------

class KeyFileSuiteTest : public testing::TestWithParam<std::string> {};

TEST_P(KeyFileSuiteTest, RoundTripKeepsTheKeyAndWritesMode0600Atomically) {
  auto suite = MakeSuite(GetParam()).value();
  TempDir dir;
  const std::string path = dir.File("member.key");
  KeyPair key = suite->GenerateKey();
  const mode_t old_umask = ::umask(0);  // the file must still come out 0600
  Status written = WriteKeyFile(path, *suite, key, kPass, kCheap);
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written;
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"member.key"});  // no temporary left

  auto read = ReadKeyFile(path, *suite, kPass);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->public_key, key.public_key);
  EXPECT_EQ(read->secret_key.bytes(), key.secret_key.bytes());
  // The key works.
  Bytes sig = suite->Sign(read->secret_key, "m").value();
  EXPECT_TRUE(suite->Verify(key.public_key, "m", sig));

  auto info = InspectKeyFile(path);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->suite, suite->name());
  EXPECT_EQ(info->public_key, key.public_key);
  EXPECT_EQ(info->cost, KeyFileCost::ForTests());

  // The secret key never appears in the clear.
  const Bytes file = ReadAll(path);
  EXPECT_EQ(file.find(key.secret_key.bytes()), Bytes::npos);
  EXPECT_EQ(file.find(ToBase64(key.secret_key.bytes())), Bytes::npos);
}

TEST_P(KeyFileSuiteTest, SameKeyTwiceGivesDifferentSaltNonceAndCiphertext) {
  auto suite = MakeSuite(GetParam()).value();
  KeyPair key = suite->GenerateKey();
  Bytes a = EncodeKeyFile(*suite, key, kPass, KeyFileCost::ForTests()).value();
  Bytes b = EncodeKeyFile(*suite, key, kPass, KeyFileCost::ForTests()).value();
  EXPECT_NE(FieldValue(a, "kdf-salt"), FieldValue(b, "kdf-salt"));
  EXPECT_NE(FieldValue(a, "nonce"), FieldValue(b, "nonce"));
  EXPECT_NE(FieldValue(a, "secret-key"), FieldValue(b, "secret-key"));
  EXPECT_EQ(DecodeKeyFile(*suite, b, kPass)->secret_key.bytes(), key.secret_key.bytes());
}

std::string SuiteTestName(const testing::TestParamInfo<std::string>& param_info) {
  std::string n = param_info.param;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllSuites, KeyFileSuiteTest, testing::ValuesIn(SuiteNames()),
                         SuiteTestName);

TEST(KeyFileTest, DefaultCostIsLibsodiumInteractive) {
  EXPECT_EQ(KeyFileCost{}.opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
  EXPECT_EQ(KeyFileCost{}.memlimit_bytes, crypto_pwhash_MEMLIMIT_INTERACTIVE);
  EXPECT_EQ(KeyFileCost::Moderate().opslimit, crypto_pwhash_OPSLIMIT_MODERATE);
  EXPECT_EQ(KeyFileCost::Moderate().memlimit_bytes, crypto_pwhash_MEMLIMIT_MODERATE);
  // A file written with the default cost records it and reads back.
  auto ed = Ed();
  KeyPair key = ed->GenerateKey();
  Bytes file = EncodeKeyFile(*ed, key, kPass, KeyFileCost{}).value();
  EXPECT_EQ(FieldValue(file, "kdf-opslimit"), "2");
  EXPECT_EQ(FieldValue(file, "kdf-memlimit"), "67108864");
  EXPECT_EQ(DecodeKeyFile(*ed, file, kPass)->public_key, key.public_key);
}

TEST(KeyFileTest, ReadErrors) {
  auto ed = Ed();
  KeyPair key = ed->GenerateKey();
  const Bytes good = EncodeKeyFile(*ed, key, kPass, KeyFileCost::ForTests()).value();
  KeyPair other = ed->GenerateKey();

  struct Case {
    std::string name;
    std::function<void(const std::string& path)> prepare;  // writes the file under test
    std::string_view passphrase;
    Code want;
    std::string_view message_part;
  };
  auto file = [](Bytes bytes, mode_t mode = 0600) {
    return [bytes, mode](const std::string& path) { WriteRaw(path, bytes, mode); };
  };
  auto flip = [](Bytes bytes, size_t at) {
    bytes[at] = bytes[at] == 'A' ? 'B' : 'A';
    return bytes;
  };
  const size_t secret_at = good.find("\nsecret-key: ") + 20;
  const size_t pubkey_at = good.find("\npublic-key: ") + 15;
  const Case cases[] = {
      {"WrongPassphrase", file(good), "incorrect horse", Code::kUnauthenticated, "wrong passphrase"},
      {"EmptyPassphrase", file(good), "", Code::kInvalidArgument, "empty"},
      {"Missing", [](const std::string&) {}, kPass, Code::kNotFound, "does not exist"},
      {"GroupReadable", file(good, 0640), kPass, Code::kPermissionDenied, "chmod 600"},
      {"WorldReadable", file(good, 0644), kPass, Code::kPermissionDenied, "mode 0644"},
      {"GroupWritable", file(good, 0620), kPass, Code::kPermissionDenied, "mode 0620"},
      {"Directory", [](const std::string& p) { fs::create_directory(p); }, kPass,
       Code::kInvalidArgument, "not a regular file"},
      {"Empty", file(""), kPass, Code::kCorruption, "not a certledger key file"},
      {"NotAKeyFile", file("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQ\n"), kPass, Code::kCorruption,
       "not a certledger key file"},
      {"TruncatedToHalf", file(good.substr(0, good.size() / 2)), kPass, Code::kCorruption,
       "truncated"},
      {"TruncatedLastByte", file(good.substr(0, good.size() - 1)), kPass, Code::kCorruption,
       "truncated"},
      {"TruncatedCheckLine", file(good.substr(0, good.size() - 10) + "\n"), kPass,
       Code::kCorruption, "check line"},
      {"VersionLineOnly", file("certledger-key-file v1\n"), kPass, Code::kCorruption, "truncated"},
      {"DamagedCiphertext", file(flip(good, secret_at)), kPass, Code::kCorruption, "checksum"},
      {"DamagedPublicKey", file(flip(good, pubkey_at)), kPass, Code::kCorruption, "checksum"},
      {"AlteredCiphertextRechecked", file(FixCheck(flip(good, secret_at))), kPass,
       Code::kUnauthenticated, "altered"},
      {"SwappedPublicKeyRechecked",
       file(FixCheck(ReplaceField(good, "public-key", ToBase64(other.public_key)))), kPass,
       Code::kUnauthenticated, "wrong passphrase"},
      {"LoweredCostRechecked", file(FixCheck(ReplaceField(good, "kdf-memlimit", "16384"))), kPass,
       Code::kUnauthenticated, "wrong passphrase"},
      {"OtherSuite", file(FixCheck(ReplaceField(good, "suite", "sm2-sm3"))), kPass,
       Code::kFailedPrecondition, "holds a sm2-sm3 key"},
      {"NewerVersion", file("certledger-key-file v2\n" + good.substr(good.find('\n') + 1)), kPass,
       Code::kUnimplemented, "version '2'"},
      {"HugeMemlimit", file(FixCheck(ReplaceField(good, "kdf-memlimit", "1099511627776"))), kPass,
       Code::kCorruption, "implausible"},
      {"ZeroOpslimit", file(FixCheck(ReplaceField(good, "kdf-opslimit", "0"))), kPass,
       Code::kCorruption, "implausible"},
      {"NonNumericCost", file(FixCheck(ReplaceField(good, "kdf-opslimit", "2x"))), kPass,
       Code::kCorruption, "not a number"},
      {"UnknownKdf", file(FixCheck(ReplaceField(good, "kdf", "scrypt"))), kPass,
       Code::kCorruption, "unknown kdf"},
      {"UnknownAead", file(FixCheck(ReplaceField(good, "aead", "aes-gcm"))), kPass,
       Code::kCorruption, "unknown aead"},
      {"ShortSalt", file(FixCheck(ReplaceField(good, "kdf-salt", "AAAA"))), kPass,
       Code::kCorruption, "salt"},
      {"BadBase64", file(FixCheck(ReplaceField(good, "nonce", "!!!!"))), kPass, Code::kCorruption,
       "not base64"},
      {"UrlSafeBase64", file(FixCheck(ReplaceField(good, "kdf-salt", "-_-_-_-_-_-_-_-_-_-_-A=="))),
       kPass, Code::kCorruption, "not base64"},
      {"UnpaddedBase64", file(FixCheck(ReplaceField(good, "kdf-salt", "AAAAAAAAAAAAAAAAAAAAAA"))),
       kPass, Code::kCorruption, "not base64"},
      {"WrongPublicKeySize", file(FixCheck(ReplaceField(good, "public-key", "AAAA"))), kPass,
       Code::kCorruption, "wrong size"},
      {"ExtraLine", file(FixCheck(ReplaceField(good, "aead", "xchacha20poly1305-ietf\nx: y"))),
       kPass, Code::kCorruption, "should be 'nonce'"},
      {"MissingLine", file(FixCheck(good.substr(0, good.find("kdf: ")) +
                                    good.substr(good.find("kdf-opslimit: ")))),
       kPass, Code::kCorruption, "should be 'kdf'"},
      {"TooLarge", file(good + Bytes(70 * 1024, 'x')), kPass, Code::kCorruption, "too large"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string path = dir.File("k.key");
    c.prepare(path);
    auto r = ReadKeyFile(path, *ed, c.passphrase);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.want) << r.status();
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << "names the file";
  }
}

// Damage anywhere is refused (never accepted, never a crash): every single-byte
// change and every truncation of a valid file.
TEST(KeyFileTest, EveryByteChangeAndTruncationIsRefused) {
  auto ed = Ed();
  KeyPair key = ed->KeyFromSeed(Bytes(32, 'd')).value();
  const Bytes good = EncodeKeyFile(*ed, key, kPass, KeyFileCost::ForTests()).value();
  ASSERT_TRUE(DecodeKeyFile(*ed, good, kPass).ok());
  std::mt19937 rng(7);
  for (size_t i = 0; i < good.size(); ++i) {
    // 6 turns '+' into '-' (the URL-safe alphabet), 0x20 flips letter case.
    for (int x : {1, 2, 4, 6, 0x20, static_cast<int>(1 + rng() % 255)}) {
      Bytes bad = good;
      bad[i] = static_cast<char>(bad[i] ^ x);
      EXPECT_FALSE(DecodeKeyFile(*ed, bad, kPass).ok()) << "byte " << i << " ^ " << x;
      // Re-checksummed, a change is still caught: by the parser or by the AEAD.
      if (good.rfind("\ncheck: ") > i) {
        EXPECT_FALSE(DecodeKeyFile(*ed, FixCheck(bad), kPass).ok())
            << "byte " << i << " ^ " << x << " with a fixed checksum";
      }
    }
  }
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeKeyFile(*ed, good.substr(0, n), kPass).ok()) << "truncated to " << n;
  }
}

TEST(KeyFileTest, ReadOnlyOwnerModeIsAccepted) {
  auto ed = Ed();
  TempDir dir;
  KeyPair key = ed->GenerateKey();
  WriteRaw(dir.File("k"), EncodeKeyFile(*ed, key, kPass, KeyFileCost::ForTests()).value(), 0400);
  EXPECT_TRUE(ReadKeyFile(dir.File("k"), *ed, kPass).ok());
}

TEST(KeyFileTest, WriteErrors) {
  auto ed = Ed();
  KeyPair key = ed->GenerateKey();
  KeyPair other = ed->GenerateKey();
  KeyPair mismatched{other.public_key, SecretKey(Bytes(key.secret_key.bytes()))};
  KeyPair malformed{key.public_key, SecretKey(Bytes(7, 'x'))};
  const std::string long_pass(kMaxPassphraseBytes + 1, 'p');
  struct Case {
    std::string name;
    const KeyPair* key;
    std::string_view passphrase;
    KeyFileCost cost;
    std::string file;  // relative to the temp dir
    Code want;
  };
  const Case cases[] = {
      {"EmptyPassphrase", &key, "", KeyFileCost::ForTests(), "k", Code::kInvalidArgument},
      {"OverlongPassphrase", &key, long_pass, KeyFileCost::ForTests(), "k",
       Code::kInvalidArgument},
      {"MismatchedKeyPair", &mismatched, kPass, KeyFileCost::ForTests(), "k",
       Code::kInvalidArgument},
      {"MalformedSecretKey", &malformed, kPass, KeyFileCost::ForTests(), "k",
       Code::kInvalidArgument},
      {"ZeroOpslimit", &key, kPass, {.opslimit = 0, .memlimit_bytes = 8192}, "k",
       Code::kInvalidArgument},
      {"TinyMemlimit", &key, kPass, {.opslimit = 1, .memlimit_bytes = 1024}, "k",
       Code::kInvalidArgument},
      {"MissingDirectory", &key, kPass, KeyFileCost::ForTests(), "no/such/dir/k", Code::kIoError},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    Status s = WriteKeyFile(dir.File(c.file), *ed, *c.key, c.passphrase, {.cost = c.cost});
    EXPECT_EQ(s.code(), c.want) << s;
    EXPECT_TRUE(dir.Entries().empty()) << "nothing left behind";
  }
}

TEST(KeyFileTest, NeverReplacesAnExistingKeyUnlessAskedTo) {
  auto ed = Ed();
  TempDir dir;
  const std::string path = dir.File("node.key");
  KeyPair first = ed->GenerateKey(), second = ed->GenerateKey();
  ASSERT_TRUE(WriteKeyFile(path, *ed, first, kPass, kCheap).ok());
  const Bytes before = ReadAll(path);
  EXPECT_EQ(WriteKeyFile(path, *ed, second, kPass, kCheap).code(), Code::kAlreadyExists);
  EXPECT_EQ(ReadAll(path), before);
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"node.key"});
  ASSERT_TRUE(WriteKeyFile(path, *ed, second, "new pass",
                           {.cost = KeyFileCost::ForTests(), .overwrite = true})
                  .ok());
  EXPECT_EQ(ReadKeyFile(path, *ed, "new pass")->public_key, second.public_key);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"node.key"});
}

// ---------------------------------------------------------------------------
// Passphrase sources.

TEST(PassphraseTest, ParseSource) {
  struct Case {
    std::string spec;
    bool ok;
    size_t alternative;
  };
  const Case cases[] = {{"env:CL_PASS", true, 0}, {"file:/run/secrets/pass", true, 1},
                        {"prompt", true, 2},      {"env:", false, 0},
                        {"file:", false, 0},      {"pass:hunter2", false, 0},
                        {"", false, 0},           {"PROMPT", false, 0}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.spec);
    auto r = ParsePassphraseSource(c.spec);
    ASSERT_EQ(r.ok(), c.ok);
    if (c.ok) {
      EXPECT_EQ(r->from.index(), c.alternative);
    } else {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    }
  }
  EXPECT_EQ(std::get<PassphraseSource::FromFile>(ParsePassphraseSource("file:/a b")->from).path,
            "/a b");
}

TEST(PassphraseTest, FromEnvironment) {
  ::setenv("CL_KEYFILE_TEST_PASS", "from env", 1);
  ::setenv("CL_KEYFILE_TEST_EMPTY", "", 1);
  ::unsetenv("CL_KEYFILE_TEST_UNSET");
  auto src = [](std::string v) { return PassphraseSource{PassphraseSource::FromEnv{std::move(v)}}; };
  EXPECT_EQ(ReadPassphrase(src("CL_KEYFILE_TEST_PASS"))->view(), "from env");
  EXPECT_EQ(ReadPassphrase(src("CL_KEYFILE_TEST_UNSET")).status().code(), Code::kNotFound);
  EXPECT_EQ(ReadPassphrase(src("CL_KEYFILE_TEST_EMPTY")).status().code(), Code::kInvalidArgument);
}

TEST(PassphraseTest, FromFile) {
  struct Case {
    std::string name;
    std::string content;
    mode_t mode;
    Code want;
    std::string passphrase;
  };
  const Case cases[] = {
      {"FirstLineOnly", "line one\nline two\n", 0600, Code::kOk, "line one"},
      {"NoNewline", "just this", 0400, Code::kOk, "just this"},
      {"CrLf", "windows\r\n", 0600, Code::kOk, "windows"},
      {"KeepsInnerSpaces", " a b \n", 0600, Code::kOk, " a b "},
      {"Empty", "", 0600, Code::kInvalidArgument, ""},
      {"EmptyFirstLine", "\nsecond\n", 0600, Code::kInvalidArgument, ""},
      {"GroupReadable", "secret\n", 0640, Code::kPermissionDenied, ""},
      {"Overlong", std::string(kMaxPassphraseBytes + 1, 'x'), 0600, Code::kInvalidArgument, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    WriteRaw(dir.File("p"), c.content, c.mode);
    auto r = ReadPassphrase({PassphraseSource::FromFile{dir.File("p")}});
    EXPECT_EQ(r.status().code(), c.want) << r.status();
    if (r.ok()) {
      EXPECT_EQ(r->view(), c.passphrase);
    }
  }
  EXPECT_EQ(ReadPassphrase({PassphraseSource::FromFile{"/nonexistent/cl/pass"}}).status().code(),
            Code::kNotFound);
}

TEST(PassphraseTest, PromptRefusesANonTerminal) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto r = PromptPassphrase(fds[0], fds[1], "Passphrase: ");
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  ::close(fds[0]);
  ::close(fds[1]);
}

// Reads what the terminal shows until `want` appears or 5 s pass.
std::string ReadTerminal(int master, std::string_view want) {
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!want.empty() && seen.find(want) != std::string::npos) break;
    pollfd p{.fd = master, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 50) <= 0) {
      if (want.empty()) break;  // drained
      continue;
    }
    char buf[256];
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
  }
  return seen;
}

TEST(PassphraseTest, PromptReadsALineWithEchoOffOnARealTerminal) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);

  Result<Passphrase> got = Internal("not run");
  std::thread prompt([&] { got = PromptPassphrase(slave, slave, "Key passphrase: "); });
  // The prompt is written after echo is turned off, so typing now is not echoed.
  std::string shown = ReadTerminal(master, "Key passphrase: ");
  ASSERT_NE(shown.find("Key passphrase: "), std::string::npos);
  const std::string typed = "tYped s3cret\n";
  ASSERT_EQ(::write(master, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
  prompt.join();
  shown += ReadTerminal(master, "");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->view(), "tYped s3cret");
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << "the passphrase was echoed: " << shown;

  // Echo is restored afterwards.
  termios t{};
  ASSERT_EQ(::tcgetattr(slave, &t), 0);
  EXPECT_NE(t.c_lflag & ECHO, 0u);
  ::close(slave);
  ::close(master);
}

}  // namespace
}  // namespace cl::crypto
