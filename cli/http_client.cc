#include "cli/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>

namespace cl::client {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int RemainingMs(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

Result<std::pair<std::string, std::string>> SplitUrl(const std::string& base_url) {
  std::string rest = base_url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos)
    return InvalidArgument("only http:// node URLs are supported: " + base_url);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size())
    return InvalidArgument("node URL needs host:port: " + base_url);
  std::string host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::make_pair(host, rest.substr(colon + 1));
}

Result<int> Connect(const std::string& base_url, Clock::time_point deadline) {
  CL_ASSIGN_OR_RETURN(auto hp, SplitUrl(base_url));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(hp.first.c_str(), hp.second.c_str(), &hints, &res); rc != 0)
    return Unavailable("cannot resolve " + hp.first + ": " + ::gai_strerror(rc));
  std::string last = "no address";
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, RemainingMs(deadline)) == 1 &&
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
      ::freeaddrinfo(res);
      return fd;
    }
    last = err != 0 ? std::strerror(err) : "connect timed out";
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return Unavailable("cannot connect to " + base_url + ": " + last);
}

Status SendAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)  // EWOULDBLOCK == EAGAIN on Linux
      return Unavailable(std::string("send failed: ") + std::strerror(errno));
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, RemainingMs(deadline)) <= 0) return DeadlineExceeded("sending the request timed out");
  }
  return Status::Ok();
}

// Reads more bytes into buf; false at EOF. Errors on timeout or failure.
Result<bool> ReadMore(int fd, std::string* buf, Clock::time_point deadline, size_t max) {
  char tmp[16384];
  for (;;) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf->append(tmp, static_cast<size_t>(n));
      if (buf->size() > max) return ResourceExhausted("response larger than the limit");
      return true;
    }
    if (n == 0) return false;
    if (errno != EAGAIN && errno != EINTR)
      return Unavailable(std::string("receive failed: ") + std::strerror(errno));
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, RemainingMs(deadline)) <= 0) return DeadlineExceeded("waiting for the node timed out");
  }
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Parses the status line and headers of buf[0, end).
Status ParseHead(std::string_view head, HttpResponse* out) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/") return Corruption("not an HTTP response");
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || sp + 4 > line.size()) return Corruption("bad status line");
  out->status = std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
  if (out->status < 100 || out->status > 599) return Corruption("bad status code");
  while (eol != std::string_view::npos && eol + 2 < head.size()) {
    size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view h = head.substr(start, eol == std::string_view::npos ? head.npos : eol - start);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view v = h.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    out->headers.emplace_back(Lower(std::string(h.substr(0, colon))), std::string(v));
  }
  return Status::Ok();
}

// Decodes a complete chunked body; nullopt if more bytes are needed.
Result<std::optional<std::string>> Dechunk(std::string_view in) {
  std::string out;
  for (;;) {
    size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return std::optional<std::string>();
    size_t size = 0;
    try {
      size = std::stoul(std::string(in.substr(0, eol)), nullptr, 16);
    } catch (...) {
      return Corruption("bad chunk size");
    }
    in.remove_prefix(eol + 2);
    if (size == 0) return std::optional<std::string>(std::move(out));
    if (in.size() < size + 2) return std::optional<std::string>();
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

Result<HttpResponse> HttpRequest(const std::string& base_url, const std::string& method,
                                 const std::string& target, const std::string& body,
                                 const std::string& content_type, const HttpRequestOptions& options) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
  CL_ASSIGN_OR_RETURN(auto hp, SplitUrl(base_url));
  Fd fd;
  CL_ASSIGN_OR_RETURN(fd.fd, Connect(base_url, deadline));
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + hp.first + ":" + hp.second +
                    "\r\nConnection: close\r\nUser-Agent: certledger-cli\r\n";
  for (const auto& [k, v] : options.headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    req += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  CL_RETURN_IF_ERROR(SendAll(fd.fd, req, deadline));

  std::string buf;
  size_t head_end = std::string::npos;
  HttpResponse out;
  bool eof = false;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    CL_ASSIGN_OR_RETURN(bool more, ReadMore(fd.fd, &buf, deadline, options.max_response_bytes));
    if (!more) return Corruption("connection closed before the response headers");
  }
  CL_RETURN_IF_ERROR(ParseHead(std::string_view(buf).substr(0, head_end + 2), &out));
  const std::string te = Lower(out.Header("transfer-encoding"));
  const std::string cl = out.Header("content-length");
  for (;;) {
    std::string_view rest = std::string_view(buf).substr(head_end + 4);
    if (te.find("chunked") != std::string::npos) {
      CL_ASSIGN_OR_RETURN(auto decoded, Dechunk(rest));
      if (decoded) {
        out.body = std::move(*decoded);
        return out;
      }
    } else if (!cl.empty()) {
      const size_t want = std::strtoull(cl.c_str(), nullptr, 10);
      if (want > options.max_response_bytes) return ResourceExhausted("response larger than the limit");
      if (rest.size() >= want) {
        out.body = std::string(rest.substr(0, want));
        return out;
      }
    } else if (eof) {
      out.body = std::string(rest);
      return out;
    }
    if (eof) return Corruption("connection closed mid-body");
    CL_ASSIGN_OR_RETURN(bool more, ReadMore(fd.fd, &buf, deadline, options.max_response_bytes));
    eof = !more;
  }
}

Status HttpEventStream(const std::string& base_url, const std::string& target, uint32_t timeout_ms,
                       const std::function<bool(const std::string&, const std::string&)>& on_event) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  CL_ASSIGN_OR_RETURN(auto hp, SplitUrl(base_url));
  Fd fd;
  CL_ASSIGN_OR_RETURN(fd.fd, Connect(base_url, deadline));
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + hp.first + ":" + hp.second +
                          "\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n";
  CL_RETURN_IF_ERROR(SendAll(fd.fd, req, deadline));
  std::string buf;
  size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    CL_ASSIGN_OR_RETURN(bool more, ReadMore(fd.fd, &buf, deadline, 1 << 20));
    if (!more) return Corruption("connection closed before the response headers");
  }
  HttpResponse head;
  CL_RETURN_IF_ERROR(ParseHead(std::string_view(buf).substr(0, head_end + 2), &head));
  if (head.status != 200) return Unavailable("event stream answered HTTP " + std::to_string(head.status));
  const bool chunked = Lower(head.Header("transfer-encoding")).find("chunked") != std::string::npos;
  std::string raw = buf.substr(head_end + 4);
  std::string text;  // de-chunked stream text not yet consumed
  for (;;) {
    if (chunked) {
      // Move complete chunks from raw to text.
      for (;;) {
        size_t eol = raw.find("\r\n");
        if (eol == std::string::npos) break;
        size_t size = std::strtoul(raw.substr(0, eol).c_str(), nullptr, 16);
        if (size == 0 && raw.substr(0, 1) == "0") return Status::Ok();
        if (raw.size() < eol + 2 + size + 2) break;
        text += raw.substr(eol + 2, size);
        raw.erase(0, eol + 2 + size + 2);
      }
    } else {
      text += raw;
      raw.clear();
    }
    size_t end;
    while ((end = text.find("\n\n")) != std::string::npos) {
      std::string ev = text.substr(0, end);
      text.erase(0, end + 2);
      std::string id, data;
      size_t pos = 0;
      while (pos < ev.size()) {
        size_t nl = ev.find('\n', pos);
        std::string line = ev.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? ev.size() : nl + 1;
        if (line.rfind("id: ", 0) == 0) id = line.substr(4);
        else if (line.rfind("data: ", 0) == 0) data += line.substr(6);
      }
      if (!on_event(id, data)) return Status::Ok();
    }
    std::string more_bytes;
    CL_ASSIGN_OR_RETURN(bool more, ReadMore(fd.fd, &more_bytes, deadline, 64 << 20));
    if (!more) return Status::Ok();
    raw += more_bytes;
  }
}

}  // namespace cl::client
