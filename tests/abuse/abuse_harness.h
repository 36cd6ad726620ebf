// Harness of the abuse tests: a real 3-node network of `certledger-node`
// processes made by `certledger network init` (as tests/cli/harness.h does,
// whose helpers it reuses), with per-node extra configuration appended before
// the daemons start; raw TCP clients; a recording, tampering TCP proxy for a
// peer link; the node's RSS from /proc. 127.0.0.1 only; bounded; the
// destructors stop everything.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli/harness.h"

namespace cl::abuse {

using cli::testing::CliResult;
using cli::testing::RunCli;
using cli::testing::WaitFor;

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
inline rlim_t RaiseFdLimit() {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);
  ::getrlimit(RLIMIT_NOFILE, &r);
  return r.rlim_cur;
}

// VmRSS of `pid` in KiB (0 if unreadable).
inline uint64_t RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

// A TCP connection to 127.0.0.1:port (blocking; -1 on failure).
inline int Dial(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Writes everything it can (false if the peer closed).
inline bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until the peer closes, `timeout` passes, or (if stop_at_response) a
// complete HTTP response head plus Content-Length body has arrived.
inline std::string ReadSome(int fd, std::chrono::milliseconds timeout, bool stop_at_response = true) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  while (true) {
    if (stop_at_response) {
      size_t end = got.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = got.find("Content-Length: ");
        if (cl == std::string::npos) cl = got.find("content-length: ");
        size_t want = cl == std::string::npos || cl > end ? 0 : std::stoul(got.substr(cl + 16));
        if (got.size() >= end + 4 + want) return got;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return got;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return got;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return got;
    got.append(buf, static_cast<size_t>(n));
  }
}

// The status code of a raw HTTP response ("HTTP/1.1 413 ..." -> 413), or 0.
inline int StatusOf(const std::string& response) {
  if (response.size() < 12 || response.rfind("HTTP/1.", 0) != 0) return 0;
  return std::atoi(response.c_str() + 9);
}

// True if the peer closed the connection within `timeout` (reads and
// discards whatever comes first).
inline bool ClosedWithin(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return false;
}

// A network like cli::testing::LocalNetwork, with `extra_toml(i)` appended to
// node i's configuration before it starts.
class AbuseNetwork {
 public:
  // `extra_toml(i, net)` may ask `net` for ports (they are chosen first).
  AbuseNetwork(int nodes, const std::function<std::string(int, const AbuseNetwork&)>& extra_toml) : n_(nodes) {
    RaiseFdLimit();  // inherited by the daemons
    dir_ = std::filesystem::temp_directory_path() /
           ("cl-abuse-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    base_ = cli::testing::FreeBase(nodes);
    CliResult r = RunCli({"network", "init", (dir_ / "net").string(), "-n", std::to_string(nodes), "--fast-keys",
                          "--peer-port", std::to_string(base_), "--http-port", std::to_string(base_ + 100),
                          "--tick-ms", "50"});
    init_ok_ = r.exit == 0;
    init_output_ = r.out + r.err;
    if (!init_ok_) return;
    pids_.assign(static_cast<size_t>(nodes + 1), 0);
    for (int i = 1; i <= nodes; ++i) {
      std::ofstream(config(i), std::ios::app) << "\n" << extra_toml(i, *this) << "\n";
      Start(i);
    }
  }
  ~AbuseNetwork() {
    for (int i = 1; i <= n_; ++i) {
      if (pids_.empty() || pids_[static_cast<size_t>(i)] == 0) continue;
      ::kill(pids_[static_cast<size_t>(i)], SIGKILL);
      ::waitpid(pids_[static_cast<size_t>(i)], nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  AbuseNetwork(const AbuseNetwork&) = delete;
  AbuseNetwork& operator=(const AbuseNetwork&) = delete;

  bool init_ok() const { return init_ok_; }
  const std::string& init_output() const { return init_output_; }
  std::string net() const { return (dir_ / "net").string(); }
  std::string dir() const { return dir_.string(); }
  std::string config(int i) const { return net() + "/node-" + std::to_string(i) + ".toml"; }
  std::string log(int i) const { return dir() + "/node-" + std::to_string(i) + ".log"; }
  uint16_t http_port(int i) const { return static_cast<uint16_t>(base_ + 100 + i - 1); }
  uint16_t peer_port(int i) const { return static_cast<uint16_t>(base_ + i - 1); }
  std::string url(int i) const { return "http://127.0.0.1:" + std::to_string(http_port(i)); }
  pid_t pid(int i) const { return pids_.at(static_cast<size_t>(i)); }
  std::vector<std::string> env() const { return {"CERTLEDGER_CONFIG=" + net() + "/client.toml"}; }
  bool alive(int i) const { return ::kill(pid(i), 0) == 0 && ::waitpid(pid(i), nullptr, WNOHANG) == 0; }

  std::string LogText(int i) const {
    std::ifstream in(log(i));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  bool WaitReady(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    return WaitFor(
        [&] {
          for (int i = 1; i <= n_; ++i) {
            auto r = client::HttpRequest(url(i), "GET", "/readyz", "", "application/json", {.timeout_ms = 1000});
            if (!r.ok() || r->status != 200) return false;
          }
          return true;
        },
        timeout);
  }

  // Anchors a new certificate through the CLI (which waits for the commit);
  // true if it committed.
  bool Commit(const std::string& id) const {
    const std::string f = dir() + "/" + id + ".xml";
    std::ofstream(f) << "<电子证照 id=\"" << id << "\"/>\n";
    CliResult r = RunCli({"cert", "anchor", f, "--id", id, "--type", "ID_CARD", "--holder",
                          "111:330102199203154321", "--key", "PSB-issuer"},
                         env());
    last_cli_ = r.out + r.err;
    return r.exit == 0;
  }
  const std::string& last_cli() const { return last_cli_; }

 private:
  void Start(int i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      const std::string l = log(i);
      (void)!std::freopen(l.c_str(), "a", stdout);
      (void)!std::freopen(l.c_str(), "a", stderr);
      const std::string bin = cli::testing::BinDir() + "/certledger-node";
      const std::string cfg = config(i);
      ::execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids_[static_cast<size_t>(i)] = pid;
  }

  int n_;
  std::filesystem::path dir_;
  uint16_t base_ = 0;
  bool init_ok_ = false;
  std::string init_output_;
  std::vector<pid_t> pids_;
  mutable std::string last_cli_;
};

// A TCP proxy for one peer link (listen -> 127.0.0.1:upstream), one
// connection at a time. It records the first `record_bytes` the dialler sends
// on its first connection (a real handshake) and can inject bytes into the
// dialler -> upstream stream of the current connection (tampering).
class RecordingProxy {
 public:
  RecordingProxy(uint16_t upstream, size_t record_bytes) : upstream_(upstream), record_bytes_(record_bytes) {
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
  ~RecordingProxy() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  std::string recorded() const {
    std::lock_guard l(mu_);
    return recorded_;
  }
  // Queues `bytes` to be written into the current dialler -> upstream stream.
  void Inject(std::string bytes) {
    std::lock_guard l(mu_);
    inject_ += bytes;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      int u = Dial(upstream_);
      if (u < 0) {
        ::close(c);
        continue;
      }
      ++connections_;
      Pump(c, u, connections_ == 1);
      ::close(c);
      ::close(u);
    }
  }
  void Pump(int c, int u, bool record) {
    char buf[65536];
    while (!stop_) {
      {
        std::lock_guard l(mu_);
        if (!inject_.empty()) {
          (void)SendAll(u, inject_);
          inject_.clear();
        }
      }
      pollfd p[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
      if (::poll(p, 2, 20) <= 0) continue;
      for (int k = 0; k < 2; ++k) {
        if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::recv(p[k].fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        if (k == 0 && record) {
          std::lock_guard l(mu_);
          if (recorded_.size() < record_bytes_)
            recorded_.append(buf, std::min(static_cast<size_t>(n), record_bytes_ - recorded_.size()));
        }
        if (!SendAll(k == 0 ? u : c, std::string_view(buf, static_cast<size_t>(n)))) return;
      }
    }
  }

  uint16_t upstream_;
  size_t record_bytes_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::string recorded_;
  std::string inject_;
  std::thread thread_;
};

}  // namespace cl::abuse
