#include "tests/cluster/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "base/check.h"

namespace cl::cluster_testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxBufferedBytes = size_t{64} << 20;
constexpr size_t kMaxConnections = 64;
constexpr size_t kReadChunk = 64 << 10;

void SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

// One proxied connection: side 0 is the dialler, side 1 the upstream node.
// q[s] holds bytes read from side s that wait to be written to side 1 - s.
struct FaultProxy::Conn {
  struct Chunk {
    Clock::time_point due;
    std::string data;
    size_t offset = 0;
  };
  int fd[2] = {-1, -1};
  std::deque<Chunk> q[2];
  size_t queued[2] = {0, 0};
  bool closed = false;

  void Close() {
    for (int& f : fd) {
      if (f >= 0) ::close(f);
      f = -1;
    }
    closed = true;
  }
};

FaultProxy::FaultProxy(uint16_t upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  CL_CHECK(listen_fd_ >= 0, "proxy: socket()");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Loopback(0);
  CL_CHECK(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0, "proxy: bind()");
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  CL_CHECK(::listen(listen_fd_, 64) == 0, "proxy: listen()");
  SetNonBlocking(listen_fd_);
  thread_ = std::thread([this] { Loop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void FaultProxy::SetDrop(Direction d, bool drop) { drop_[static_cast<int>(d)] = drop; }
void FaultProxy::SetDelay(Direction d, uint32_t delay_ms) { delay_ms_[static_cast<int>(d)] = delay_ms; }
void FaultProxy::Heal() {
  for (int d = 0; d < 2; ++d) {
    drop_[d] = false;
    delay_ms_[d] = 0;
  }
}
void FaultProxy::Cut() { cut_ = true; }

void FaultProxy::Loop() {
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<char> buf(kReadChunk);
  while (!stop_) {
    if (cut_.exchange(false))
      for (auto& c : conns) c->Close();
    std::erase_if(conns, [](const std::unique_ptr<Conn>& c) { return c->closed; });

    // What to wait for: reads while a side's buffer has room, writes when the
    // head chunk of the opposite queue is due.
    const Clock::time_point now = Clock::now();
    int timeout_ms = 20;
    std::vector<pollfd> fds;
    std::vector<std::pair<Conn*, int>> owners;  // (conn, side) per fds entry; conn null: listener
    fds.push_back({listen_fd_, POLLIN, 0});
    owners.emplace_back(nullptr, 0);
    for (auto& c : conns) {
      for (int s = 0; s < 2; ++s) {
        short ev = 0;
        if (c->queued[s] < kMaxBufferedBytes) ev |= POLLIN;
        const auto& out = c->q[1 - s];
        if (!out.empty()) {
          if (out.front().due <= now) {
            ev |= POLLOUT;
          } else {
            const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(out.front().due - now);
            timeout_ms = std::min<int>(timeout_ms, static_cast<int>(wait.count()) + 1);
          }
        }
        fds.push_back({c->fd[s], ev, 0});
        owners.emplace_back(c.get(), s);
      }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;

    for (size_t k = 0; k < fds.size(); ++k) {
      auto [c, s] = owners[k];
      const short re = fds[k].revents;
      if (c == nullptr) {
        if (!(re & POLLIN)) continue;
        const int client = ::accept(listen_fd_, nullptr, nullptr);
        if (client < 0) continue;
        if (conns.size() >= kMaxConnections) {
          ::close(client);
          continue;
        }
        const int up = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = Loopback(upstream_port_);
        if (up < 0 || ::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
          // The node behind the proxy is down: refuse like it would.
          if (up >= 0) ::close(up);
          ::close(client);
          continue;
        }
        SetNonBlocking(client);
        SetNonBlocking(up);
        auto conn = std::make_unique<Conn>();
        conn->fd[0] = client;
        conn->fd[1] = up;
        conns.push_back(std::move(conn));
        ++accepted_;
        continue;
      }
      if (c->closed) continue;
      if (re & POLLIN) {
        const ssize_t n = ::read(c->fd[s], buf.data(), buf.size());
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          c->Close();
          continue;
        }
        if (n > 0) {
          if (drop_[s]) {
            dropped_ += static_cast<uint64_t>(n);
          } else {
            const auto due = Clock::now() + std::chrono::milliseconds(delay_ms_[s].load());
            c->q[s].push_back({due, std::string(buf.data(), static_cast<size_t>(n)), 0});
            c->queued[s] += static_cast<size_t>(n);
          }
        }
      } else if (re & (POLLERR | POLLHUP | POLLNVAL)) {
        c->Close();
        continue;
      }
      if (re & POLLOUT) {
        auto& out = c->q[1 - s];
        const Clock::time_point t = Clock::now();
        while (!out.empty() && out.front().due <= t) {
          auto& ch = out.front();
          const ssize_t n = ::write(c->fd[s], ch.data.data() + ch.offset, ch.data.size() - ch.offset);
          if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) c->Close();
            break;
          }
          ch.offset += static_cast<size_t>(n);
          forwarded_ += static_cast<uint64_t>(n);
          if (ch.offset < ch.data.size()) break;
          c->queued[1 - s] -= ch.data.size();
          out.pop_front();
        }
      }
    }
  }
  for (auto& c : conns) c->Close();
}

}  // namespace cl::cluster_testing
