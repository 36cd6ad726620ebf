// Blocking POSIX socket helpers for node tests: raw clients that speak (or
// abuse) a protocol byte by byte, and a tampering TCP proxy. 127.0.0.1 only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <random>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cl::testing {

// A free loopback port below the kernel's ephemeral range, for a server that
// is restarted on the same port: a port the kernel picked (bind to 0) may be
// taken meanwhile by an outgoing connection's local end ("Address already in
// use" on the rebind, under parallel test runs).
inline uint16_t StablePort() {
  unsigned lo = 32768;
  if (std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range"); in) in >> lo;
  const unsigned span = lo > 20200 ? lo - 20000 - 100 : 10000;
  static std::mt19937 rng(static_cast<unsigned>(::getpid()) ^
                          static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int tries = 0; tries < 1000; ++tries) {
    const uint16_t port = static_cast<uint16_t>(20000 + rng() % span);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return port;
  }
  return 0;
}

// Polls `pred` every 5 ms until it holds or `timeout` passes; returns pred().
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// A connected client socket; closed on destruction.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawSocket() { Close(); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool Write(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads exactly n bytes; false on EOF, error or timeout.
  bool ReadExact(size_t n, std::string* out, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    out->clear();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out->size() < n) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now()).count());
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) return false;
      char buf[65536];
      ssize_t r = ::recv(fd_, buf, std::min(sizeof buf, n - out->size()), 0);
      if (r <= 0) return false;
      out->append(buf, static_cast<size_t>(r));
    }
    return true;
  }
  // Reads whatever arrives until EOF or timeout; returns it.
  std::string ReadAll(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now()).count());
      if (left <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) return out;
      char buf[65536];
      ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) {
        eof_ = r == 0 || r < 0;
        return out;
      }
      out.append(buf, static_cast<size_t>(r));
    }
  }
  // True if the peer closed the connection within `timeout`.
  bool ClosedByPeer(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    eof_ = false;
    ReadAll(timeout);
    return eof_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
};

// A TCP proxy 127.0.0.1:port() -> 127.0.0.1:target that can corrupt one
// chunk flowing client->server on request.
class TamperProxy {
 public:
  explicit TamperProxy(uint16_t target) : target_(target) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(lfd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TamperProxy() {
    stop_ = true;
    ::shutdown(lfd_, SHUT_RDWR);
    ::close(lfd_);
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : pumps_) t.join();
    for (int fd : fds_) ::close(fd);
  }
  uint16_t port() const { return port_; }
  // The next chunk client->server gets its last byte flipped.
  void TamperNext() { tamper_ = true; }
  int tampered() const { return tampered_; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      int c = ::accept(lfd_, nullptr, nullptr);
      if (c < 0) return;
      int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(target_);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(c);
        ::close(s);
        continue;
      }
      std::lock_guard lock(mu_);
      fds_.push_back(c);
      fds_.push_back(s);
      pumps_.emplace_back([this, c, s] { Pump(c, s, true); });
      pumps_.emplace_back([this, c, s] { Pump(s, c, false); });
    }
  }
  void Pump(int from, int to, bool client_to_server) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(from, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (client_to_server && tamper_.exchange(false)) {
        buf[n - 1] ^= 0x01;
        ++tampered_;
      }
      if (::send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
  }

  uint16_t target_;
  uint16_t port_ = 0;
  int lfd_ = -1;
  std::atomic<bool> stop_{false}, tamper_{false};
  std::atomic<int> tampered_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> pumps_;
};

}  // namespace cl::testing
