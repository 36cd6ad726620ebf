// Test harness for the CLI: runs the built `certledger` binary as a
// subprocess, starts a real local network of `certledger-node` daemons from
// `certledger network init` output, and a fake node that forwards to a real
// one and rewrites its answers (the lying node). 127.0.0.1 only; everything is
// bounded in time and stopped by the destructors.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/http_client.h"

namespace cl::cli::testing {

inline std::string BinDir() { return CERTLEDGER_BIN_DIR; }

struct CliResult {
  int exit = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Starts BinDir()/`binary` ARGS with stdout and stderr to the files named
// (stdin from `stdin_file` if given) and `env` (NAME=VALUE) added; the
// child is killed by SIGALRM after 60 s.
inline pid_t SpawnBinary(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& out_file, const std::string& err_file,
                         const std::vector<std::string>& env = {}, const std::string& stdin_file = "") {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    (void)!std::freopen(out_file.c_str(), "w", stdout);
    (void)!std::freopen(err_file.c_str(), "w", stderr);
    if (!stdin_file.empty()) (void)!std::freopen(stdin_file.c_str(), "r", stdin);
    std::vector<char*> argv;
    const std::string bin = BinDir() + "/" + binary;
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::alarm(60);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for `pid`: its exit code, or 128 + the signal that ended it.
inline int WaitExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs `certledger ARGS` with `env` (NAME=VALUE) added; at most 60 s.
inline CliResult RunCli(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                        const std::string& stdin_file = "") {
  static std::atomic<int> counter{0};
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const std::string out_file = "/tmp/cl-cli-out-" + tag, err_file = "/tmp/cl-cli-err-" + tag;
  const pid_t pid = SpawnBinary("certledger", args, out_file, err_file, env, stdin_file);
  CliResult r;
  r.exit = WaitExit(pid);
  auto slurp = [](const std::string& f) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    std::filesystem::remove(f);
    return ss.str();
  };
  r.out = slurp(out_file);
  r.err = slurp(err_file);
  return r;
}

inline bool IsFree(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The first port of the kernel's ephemeral range (outgoing connections take
// their local ports from it), or 0 if unknown.
inline unsigned EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned lo = 0;
  return in >> lo ? lo : 0;
}

// A base port p with p..p+n-1 and p+100..p+100+n-1 free right now (a small
// race: another program may take one before the daemons bind it). Chosen below
// the ephemeral range when it starts high enough (Linux: 32768), so no
// outgoing connection of the many the tests make can take a port between this
// check and the daemons' bind.
inline uint16_t FreeBase(int n) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(
      std::chrono::steady_clock::now().time_since_epoch().count()));
  const unsigned lo = EphemeralLow();
  const unsigned span = lo >= 22000 ? lo - 20000 - 200 : 40000;
  for (int tries = 0; tries < 1000; ++tries) {
    const uint16_t b = static_cast<uint16_t>(20000 + rng() % span);
    bool ok = true;
    for (int i = 0; i < n && ok; ++i) ok = IsFree(static_cast<uint16_t>(b + i)) && IsFree(static_cast<uint16_t>(b + 100 + i));
    if (ok) return b;
  }
  return 0;
}

inline bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// A network of `nodes` nodes and crypto suite `suite`, created by
// `certledger network init` and started.
class LocalNetwork {
 public:
  explicit LocalNetwork(int nodes = 3, const std::string& suite = "ed25519-sha256") : n_(nodes) {
    dir_ = std::filesystem::temp_directory_path() /
           ("cl-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    base_ = FreeBase(nodes);
    CliResult r = RunCli({"network", "init", (dir_ / "net").string(), "-n", std::to_string(nodes), "--fast-keys",
                          "--peer-port", std::to_string(base_), "--http-port", std::to_string(base_ + 100),
                          "--tick-ms", "50", "--suite", suite});
    init_ok_ = r.exit == 0;
    init_output_ = r.out + r.err;
    if (!init_ok_) return;
    for (int i = 1; i <= nodes; ++i) Start(i);
  }
  ~LocalNetwork() {
    for (size_t i = 1; i < pids_.size(); ++i) Stop(static_cast<int>(i), SIGKILL);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  bool init_ok() const { return init_ok_; }
  const std::string& init_output() const { return init_output_; }
  std::string net() const { return (dir_ / "net").string(); }
  std::string dir() const { return dir_.string(); }
  std::string config() const { return net() + "/client.toml"; }
  std::string url(int i) const { return "http://127.0.0.1:" + std::to_string(base_ + 100 + i - 1); }
  uint16_t peer_port(int i) const { return static_cast<uint16_t>(base_ + i - 1); }
  // env for RunCli: the network's client config.
  std::vector<std::string> env() const { return {"CERTLEDGER_CONFIG=" + config()}; }

  void Start(int i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      const std::string log = dir_.string() + "/node-" + std::to_string(i) + ".log";
      (void)!std::freopen(log.c_str(), "a", stdout);
      (void)!std::freopen(log.c_str(), "a", stderr);
      const std::string bin = BinDir() + "/certledger-node";
      const std::string cfg = net() + "/node-" + std::to_string(i) + ".toml";
      ::execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Nodes beyond the initial ones (node-<i>.toml written by the test) too.
    pids_.resize(std::max(pids_.size(), static_cast<size_t>(std::max(n_, i) + 1)), 0);
    pids_[static_cast<size_t>(i)] = pid;
  }
  // Sends `sig` and waits; returns the exit status (or -1 if not running).
  int Stop(int i, int sig = SIGTERM) {
    if (static_cast<size_t>(i) >= pids_.size() || pids_[static_cast<size_t>(i)] == 0) return -1;
    pid_t pid = pids_[static_cast<size_t>(i)];
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pids_[static_cast<size_t>(i)] = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // Every running node answers /readyz with 200.
  bool WaitReady(std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    return WaitFor(
        [&] {
          for (int i = 1; i <= n_; ++i) {
            if (static_cast<size_t>(i) >= pids_.size() || pids_[static_cast<size_t>(i)] == 0) continue;
            auto r = client::HttpRequest(url(i), "GET", "/readyz", "", "application/json", {.timeout_ms = 1000});
            if (!r.ok() || r->status != 200) return false;
          }
          return true;
        },
        timeout);
  }

 private:
  int n_;
  std::filesystem::path dir_;
  uint16_t base_ = 0;
  bool init_ok_ = false;
  std::string init_output_;
  std::vector<pid_t> pids_;
};

// A fake node: answers every request by forwarding it to `upstream` and
// passing the answer through `rewrite(target, body)` (which may change it).
class FakeNode {
 public:
  using Rewrite = std::function<void(const std::string& target, std::string* body)>;
  FakeNode(std::string upstream, Rewrite rewrite) : upstream_(std::move(upstream)), rewrite_(std::move(rewrite)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeNode() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      Serve(c);
      ::close(c);
    }
  }
  void Serve(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return;
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::istringstream line(req.substr(0, req.find("\r\n")));
    std::string method, target;
    line >> method >> target;
    auto r = client::HttpRequest(upstream_, method, target, "", "application/json", {.timeout_ms = 10000});
    std::string body = r.ok() ? r->body : "{\"code\":\"UNAVAILABLE\"}";
    const int status = r.ok() ? r->status : 503;
    if (status == 200) rewrite_(target, &body);
    const std::string resp = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n"
                             "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    size_t off = 0;
    while (off < resp.size()) {
      ssize_t n = ::write(c, resp.data() + off, resp.size() - off);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  std::string upstream_;
  Rewrite rewrite_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace cl::cli::testing
