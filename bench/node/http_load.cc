#include "bench/node/http_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "base/check.h"

namespace cl::bench {
namespace {

uint64_t NowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// Case-insensitive search for a header line "name: value" in `head`.
std::string_view HeaderValue(std::string_view head, std::string_view name) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    if (head.size() - pos < name.size() + 1) return {};
    bool match = true;
    for (size_t i = 0; i < name.size() && match; ++i)
      match = std::tolower(static_cast<unsigned char>(head[pos + i])) == name[i];
    if (!match || head[pos + name.size()] != ':') continue;
    size_t v = pos + name.size() + 1;
    while (v < head.size() && head[v] == ' ') ++v;
    size_t e = head.find("\r\n", v);
    return head.substr(v, (e == std::string_view::npos ? head.size() : e) - v);
  }
  return {};
}

// Parses a complete response at the start of `in`. Returns the bytes it
// takes, or 0 if incomplete; -1 if malformed.
int64_t ParseResponse(const std::string& in, int* status, std::string* body, bool* close) {
  const size_t hdr_end = in.find("\r\n\r\n");
  if (hdr_end == std::string::npos) return 0;
  std::string_view head(in.data(), hdr_end + 2);
  if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return -1;
  *status = std::atoi(in.c_str() + 9);
  *close = HeaderValue(head, "connection") == "close";
  const size_t start = hdr_end + 4;
  std::string_view te = HeaderValue(head, "transfer-encoding");
  if (te.find("chunked") != std::string_view::npos) {
    body->clear();
    size_t pos = start;
    while (true) {
      size_t line_end = in.find("\r\n", pos);
      if (line_end == std::string::npos) return 0;
      const size_t len = std::strtoul(in.c_str() + pos, nullptr, 16);
      if (len == 0) {
        // Last chunk; no trailers expected.
        if (in.size() < line_end + 4) return 0;
        return static_cast<int64_t>(line_end + 4);
      }
      if (in.size() < line_end + 2 + len + 2) return 0;
      body->append(in, line_end + 2, len);
      pos = line_end + 2 + len + 2;
    }
  }
  std::string_view cl = HeaderValue(head, "content-length");
  const size_t len = cl.empty() ? 0 : std::strtoul(std::string(cl).c_str(), nullptr, 10);
  if (in.size() < start + len) return 0;
  body->assign(in, start, len);
  return static_cast<int64_t>(start + len);
}

Result<int> Connect(const Endpoint& ep) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Unavailable(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(ep.port);
  if (::inet_pton(AF_INET, ep.host.c_str(), &a.sin_addr) != 1) {
    ::close(fd);
    return InvalidArgument("not an IPv4 address: " + ep.host);
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    return Unavailable("connect " + ep.host + ":" + std::to_string(ep.port) + ": " + err);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

struct Conn {
  int fd = -1;
  uint32_t endpoint = 0;
  bool busy = false;
  int64_t index = -1;
  const std::string* out = nullptr;
  size_t off = 0;
  uint64_t start_ns = 0;  // send time (closed loop) or due time (open loop)
  std::string in;
};

struct Shared {
  std::mutex mu;
  Status error;
};

// One epoll loop owning `conns`.
class Worker {
 public:
  Worker(const LoadOptions& o, const RequestSource& src, uint32_t first_conn, uint32_t n_conns, double rate,
         uint64_t t0, Shared* shared)
      : o_(o), src_(src), rate_(rate), t0_(t0), shared_(shared) {
    for (uint32_t i = 0; i < n_conns; ++i)
      conns_.push_back(Conn{.endpoint = static_cast<uint32_t>((first_conn + i) % o.endpoints.size())});
    warm_end_ = t0 + static_cast<uint64_t>(o.warmup_s * 1e9);
    end_ = warm_end_ + static_cast<uint64_t>(o.duration_s * 1e9);
  }

  Status Run() {
    ep_ = ::epoll_create1(0);
    for (size_t i = 0; i < conns_.size(); ++i) CL_RETURN_IF_ERROR(Open(i));
    // Every thread starts at t0, after all connections are open.
    if (const uint64_t now = NowNs(); now < t0_) std::this_thread::sleep_for(std::chrono::nanoseconds(t0_ - now));
    const bool open_loop = rate_ > 0;
    const double period_ns = open_loop ? 1e9 / rate_ : 0;
    uint64_t k = 0;
    if (!open_loop)
      for (size_t i = 0; i < conns_.size(); ++i) CL_RETURN_IF_ERROR(Issue(i, NowNs()));
    std::vector<epoll_event> events(conns_.size() + 1);
    while (true) {
      uint64_t now = NowNs();
      if (now >= end_) break;
      if (open_loop && !exhausted_) {
        while (true) {
          const uint64_t due = t0_ + static_cast<uint64_t>(static_cast<double>(k) * period_ns);
          if (due > now || due >= end_) break;
          due_.push_back(due);
          ++k;
        }
        for (size_t i = 0; i < conns_.size() && !due_.empty(); ++i) {
          if (conns_[i].busy) continue;
          CL_RETURN_IF_ERROR(Issue(i, due_.front()));
          if (!conns_[i].busy) break;  // exhausted
          due_.pop_front();
        }
      }
      if (exhausted_ && busy_ == 0) break;
      int timeout_ms = 50;
      if (open_loop) {
        const uint64_t next_due = t0_ + static_cast<uint64_t>(static_cast<double>(k) * period_ns);
        timeout_ms = next_due > now ? static_cast<int>((next_due - now) / 1'000'000) : 0;
        timeout_ms = std::min(timeout_ms, 50);
      }
      int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout_ms);
      if (n < 0 && errno != EINTR) return Internal(std::string("epoll_wait: ") + std::strerror(errno));
      for (int e = 0; e < n; ++e) CL_RETURN_IF_ERROR(OnEvent(events[static_cast<size_t>(e)].data.u32,
                                                            events[static_cast<size_t>(e)].events));
      now = NowNs();
      for (const Conn& c : conns_)
        if (c.busy && now - c.start_ns > uint64_t{o_.timeout_ms} * 1'000'000)
          return DeadlineExceeded("a request took longer than " + std::to_string(o_.timeout_ms) + " ms");
    }
    last_ns_ = std::min(NowNs(), end_);
    for (Conn& c : conns_)
      if (c.fd >= 0) ::close(c.fd);
    ::close(ep_);
    return Status::Ok();
  }

  LoadResult result;
  uint64_t last_ns_ = 0;
  uint64_t warm_end_ = 0;

 private:
  Status Open(size_t i) {
    Conn& c = conns_[i];
    if (c.fd >= 0) {
      ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
    }
    CL_ASSIGN_OR_RETURN(c.fd, Connect(o_.endpoints[c.endpoint]));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    c.in.clear();
    return Status::Ok();
  }

  Status Issue(size_t i, uint64_t start_ns) {
    Conn& c = conns_[i];
    if (exhausted_) return Status::Ok();
    const int64_t idx = src_.next(c.endpoint);
    if (idx < 0) {
      exhausted_ = true;
      return Status::Ok();
    }
    c.index = idx;
    c.out = &src_.request(idx).bytes;
    c.off = 0;
    c.busy = true;
    c.start_ns = start_ns;
    ++busy_;
    ++result.sent;
    return Flush(i);
  }

  Status Flush(size_t i) {
    Conn& c = conns_[i];
    while (c.off < c.out->size()) {
      ssize_t n = ::send(c.fd, c.out->data() + c.off, c.out->size() - c.off, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u32 = static_cast<uint32_t>(i);
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
        return Status::Ok();
      }
      if (n <= 0) return Unavailable(std::string("send: ") + std::strerror(errno));
      c.off += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status OnEvent(uint32_t i, uint32_t events) {
    Conn& c = conns_[i];
    if (events & EPOLLOUT) {
      if (c.busy) CL_RETURN_IF_ERROR(Flush(i));
      if (c.off >= c.out->size()) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = i;
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
      }
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return Status::Ok();
    char buf[65536];
    bool eof = false;
    while (true) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) eof = true;
      else if (errno != EAGAIN) eof = true;
      break;
    }
    int status = 0;
    bool close = false;
    std::string body;
    const int64_t used = c.busy ? ParseResponse(c.in, &status, &body, &close) : 0;
    if (used < 0) return Corruption("malformed HTTP response");
    if (used == 0) {
      if (!eof) return Status::Ok();
      // The server closed the connection: a request in flight fails.
      if (c.busy) Complete(i, 0, "connection closed by the server");
      CL_RETURN_IF_ERROR(Open(i));
      if (rate_ == 0) return Issue(i, NowNs());
      return Status::Ok();
    }
    c.in.erase(0, static_cast<size_t>(used));
    Complete(i, status, body);
    if (close || eof) CL_RETURN_IF_ERROR(Open(i));
    if (rate_ == 0) return Issue(i, NowNs());
    if (!due_.empty()) {
      CL_RETURN_IF_ERROR(Issue(i, due_.front()));
      if (conns_[i].busy) due_.pop_front();
    }
    return Status::Ok();
  }

  void Complete(size_t i, int status, const std::string& body) {
    Conn& c = conns_[i];
    const uint64_t now = NowNs();
    c.busy = false;
    --busy_;
    const bool good = status != 0 && src_.check(c.index, status, body);
    if (now < warm_end_ || now >= end_) return;
    if (good) {
      ++result.ok;
      result.latency.Record(now - c.start_ns);
    } else {
      ++result.failed;
      if (result.first_failure.empty())
        result.first_failure = "HTTP " + std::to_string(status) + ": " + body.substr(0, 300);
    }
  }

  const LoadOptions& o_;
  const RequestSource& src_;
  double rate_;
  uint64_t t0_, end_ = 0;
  Shared* shared_;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::deque<uint64_t> due_;
  bool exhausted_ = false;
  uint32_t busy_ = 0;
};

}  // namespace

// ---------------------------------------------------------------- histogram

// Bucket b = 128 * e + m covers [2^e * (128 + m) / 128, ...) ns for e >= 1:
// 7 bits of mantissa, i.e. < 1% relative error.
size_t LatencyHistogram::Bucket(uint64_t ns) {
  if (ns < 128) return static_cast<size_t>(ns);
  const int e = std::bit_width(ns) - 8;  // ns >> e is in [128, 256)
  const uint64_t m = (ns >> e) - 128;
  return std::min<size_t>(static_cast<size_t>(128 * (e + 1) + static_cast<int>(m)), 64 * 128 - 1);
}

uint64_t LatencyHistogram::BucketUpper(size_t b) {
  if (b < 128) return b;
  const size_t e = b / 128 - 1, m = b % 128;
  return ((128 + m + 1) << e) - 1;
}

void LatencyHistogram::Record(uint64_t ns) {
  ++buckets_[Bucket(ns)];
  ++count_;
  sum_ns_ += ns;
  max_ns_ = std::max(max_ns_, ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& o) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  sum_ns_ += o.sum_ns_;
  max_ns_ = std::max(max_ns_, o.max_ns_);
}

uint64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999));
  uint64_t seen = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::min(BucketUpper(b), max_ns_);
  }
  return max_ns_;
}

// ---------------------------------------------------------------- requests

Result<Endpoint> ParseUrl(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("URL needs a port: " + url);
  Endpoint ep;
  ep.host = rest.substr(0, colon);
  if (ep.host == "localhost") ep.host = "127.0.0.1";
  const long port = std::strtol(rest.c_str() + colon + 1, nullptr, 10);
  if (port <= 0 || port > 65535) return InvalidArgument("bad port in " + url);
  ep.port = static_cast<uint16_t>(port);
  return ep;
}

RenderedRequest RenderRequest(const std::string& method, const std::string& target, const Endpoint& ep,
                              const std::string& body, const std::string& content_type,
                              const std::string& accept) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: " + ep.host + ":" + std::to_string(ep.port) + "\r\n";
  if (!content_type.empty()) r += "Content-Type: " + content_type + "\r\n";
  if (!accept.empty()) r += "Accept: " + accept + "\r\n";
  if (method != "GET" || !body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "\r\n";
  r += body;
  return RenderedRequest{std::move(r)};
}

Result<LoadResult> RunLoad(const LoadOptions& o, const RequestSource& src) {
  if (o.endpoints.empty()) return InvalidArgument("no endpoint");
  if (o.connections == 0 || o.threads == 0) return InvalidArgument("connections and threads must be > 0");
  const uint32_t threads = std::min(o.threads, o.connections);
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  const uint64_t t0 = NowNs() + 20'000'000 + uint64_t{o.connections} * 100'000;  // connections open first
  uint32_t first = 0;
  for (uint32_t t = 0; t < threads; ++t) {
    const uint32_t n = o.connections / threads + (t < o.connections % threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, src, first, n, o.rate_per_s / threads, t0, &shared));
    first += n;
  }
  std::vector<Status> statuses(threads);
  std::vector<std::thread> ts;
  for (uint32_t t = 0; t < threads; ++t) ts.emplace_back([&, t] { statuses[t] = workers[t]->Run(); });
  for (auto& t : ts) t.join();
  for (const Status& s : statuses) CL_RETURN_IF_ERROR(s);
  LoadResult r;
  uint64_t last = 0;
  for (auto& w : workers) {
    r.ok += w->result.ok;
    r.failed += w->result.failed;
    r.sent += w->result.sent;
    r.latency.Merge(w->result.latency);
    if (r.first_failure.empty()) r.first_failure = w->result.first_failure;
    last = std::max(last, w->last_ns_);
  }
  const uint64_t warm_end = workers.front()->warm_end_;
  r.window_s = last > warm_end ? static_cast<double>(last - warm_end) / 1e9 : 0;
  return r;
}

}  // namespace cl::bench
