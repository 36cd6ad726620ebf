// The HTTP server: Beast lives in this file only.
#include "node/http/server.h"

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "base/thread_name.h"
#include "node/address.h"
#include "node/metrics.h"

namespace cl::node::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

Status ValidateHttpLimits(const HttpLimits& l) {
  const std::pair<const char*, uint64_t> fields[] = {
      {"max_header_bytes", l.max_header_bytes},
      {"max_body_bytes", l.max_body_bytes},
      {"max_url_bytes", l.max_url_bytes},
      {"max_connections", l.max_connections},
      {"idle_timeout_ms", l.idle_timeout_ms},
      {"read_header_timeout_ms", l.read_header_timeout_ms},
      {"request_timeout_ms", l.request_timeout_ms},
      {"handler_timeout_ms", l.handler_timeout_ms},
      {"max_stream_buffer_bytes", l.max_stream_buffer_bytes},
      {"shutdown_grace_ms", l.shutdown_grace_ms},
  };
  for (const auto& [name, v] : fields) {
    if (v == 0) return InvalidArgument(std::string("http.") + name + " must be positive");
  }
  return Status::Ok();
}

namespace {

// State shared by the server, its connections and the sinks that may outlive
// both: posting to the I/O context is allowed only while `alive`.
struct Shared {
  std::mutex mu;
  bool alive = true;
  std::atomic<uint32_t> open{0};
};

std::string_view SV(beast::string_view v) { return {v.data(), v.size()}; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void AppendDecimal(uint64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(end - buf));
}

std::string Hex(size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[n & 15]);
    n >>= 4;
  } while (n != 0);
  return out;
}

}  // namespace

class Connection;

// The metric series of a connection's last answer: keep-alive clients repeat
// the same route, so most requests update their series without the
// registry's lock or building label strings.
struct SeriesCache {
  std::string method, route;
  int status = 0;
  Counter* requests = nullptr;
  Histogram* duration = nullptr;
};

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, Router router)
      : opts_(std::move(options)), router_(std::move(router)), acceptor_(ioc_),
        shared_(std::make_shared<Shared>()) {}
  ~Impl();

  Status Init();
  void Start();
  void Stop();
  void Record(std::string_view method, std::string_view route, int status, Clock::time_point start,
              SeriesCache* cache);

  HttpServerOptions opts_;
  Router router_;
  asio::io_context ioc_;  // before every object that registers with it
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  std::atomic<uint32_t> running_threads_{0};
  std::atomic<bool> stopping_{false};
  bool started_ = false, stopped_ = false;
  uint16_t port_ = 0;
  std::mutex conns_mu_;
  std::list<std::weak_ptr<Connection>> conns_;

 private:
  void Accept();
  void Reject(tcp::socket sock);
};

// ------------------------------------------------------------------ streams

class StreamImpl : public StreamWriter {
 public:
  StreamImpl(std::weak_ptr<Connection> conn, std::shared_ptr<Shared> shared, uint32_t max_buffer)
      : conn_(std::move(conn)), shared_(std::move(shared)), max_buffer_(max_buffer) {}

  bool Write(std::string data) override;
  void Close() override;
  bool closed() const override {
    std::lock_guard lock(mu_);
    return closed_ || close_requested_;
  }

  // Strand side: takes queued data; *finish is set once Close was requested
  // and everything queued has been taken.
  std::string Take(bool* finish) {
    std::lock_guard lock(mu_);
    flush_scheduled_ = false;
    std::string out;
    for (auto& d : pending_) {
      if (d.empty()) continue;  // an empty chunk would end the body
      out += Hex(d.size()) + "\r\n" + d + "\r\n";
    }
    pending_.clear();
    pending_bytes_ = 0;
    *finish = close_requested_ && !closed_;
    return out;
  }
  void MarkClosed() {
    std::lock_guard lock(mu_);
    closed_ = true;
    pending_.clear();
    pending_bytes_ = 0;
  }

 private:
  void ScheduleFlush();  // requires mu_

  std::weak_ptr<Connection> conn_;
  std::shared_ptr<Shared> shared_;
  const uint32_t max_buffer_;
  mutable std::mutex mu_;
  std::deque<std::string> pending_;
  size_t pending_bytes_ = 0;
  bool closed_ = false, close_requested_ = false, flush_scheduled_ = false;
};

// ------------------------------------------------------------------ connection

class RequestSink;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl& server, tcp::socket sock)
      : s_(server), shared_(server.shared_), log_(server.opts_.log), stream_(std::move(sock)),
        handler_timer_(stream_.get_executor()) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~Connection() { shared_->open--; }

  auto executor() { return stream_.get_executor(); }
  void Start() { asio::dispatch(executor(), [self = shared_from_this()] { self->DoRead(); }); }
  // Graceful: idle connections close, in-flight requests finish and close.
  void Shutdown() {
    asio::post(executor(), [self = shared_from_this()] {
      self->close_after_response_ = true;
      if (self->state_ == State::kIdle || self->state_ == State::kReadingHeader) self->Close();
      if (self->state_ == State::kStreaming && self->stream_writer_) self->stream_writer_->Close();
    });
  }
  void ForceClose() {
    asio::post(executor(), [self = shared_from_this()] { self->Close(); });
  }

  // Strand only, from RequestSink.
  void SendResponse(uint64_t seq, Response r);
  void BeginStream(uint64_t seq, int status, std::string content_type, std::shared_ptr<StreamImpl> w);
  void FlushStream();

 private:
  enum class State { kIdle, kReadingHeader, kReadingBody, kHandling, kWriting, kStreaming, kClosed };

  void DoRead();
  void ReadHeader();
  void OnHeader(error_code ec);
  void ReadBody();
  void OnBody(error_code ec);
  void Dispatch();
  // A protocol error: respond, then close.
  void Fail(const Status& s, int http_status) {
    close_after_response_ = true;
    route_ = "unmatched";
    state_ = State::kHandling;
    SendResponse(seq_, ErrorResponse(s, http_status));
  }
  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    handler_timer_.cancel();
    if (stream_writer_) stream_writer_->MarkClosed();
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }
  // Half-closes and reads what the client still sends for a moment, so it
  // sees our error response instead of a reset.
  void Linger() {
    state_ = State::kClosed;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));
    DrainSome();
  }
  void DrainSome() {
    stream_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec) {
        self->stream_.close();
        return;
      }
      self->DrainSome();
    });
  }
  // While streaming: notices the client closing.
  void WatchStreamClient() {
    stream_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec) {
        self->Close();
        return;
      }
      if (self->state_ == State::kStreaming) self->WatchStreamClient();
    });
  }

  HttpServer::Impl& s_;  // used only on the strand while the server runs
  std::shared_ptr<Shared> shared_;
  Logger log_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  asio::steady_timer handler_timer_;
  State state_ = State::kIdle;
  bool close_after_response_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  uint64_t seq_ = 0;
  std::string method_, route_;
  Clock::time_point start_;
  std::string remote_;
  SeriesCache series_;
  std::shared_ptr<RequestSink> sink_;
  std::shared_ptr<StreamImpl> stream_writer_;
  bool stream_writing_ = false;
  std::string out_head_, out_body_;  // the response being written (kWriting)
  std::array<char, 4096> scratch_{};
};

// Where one request's Responder delivers: posts to the connection's strand.
class RequestSink : public ResponseSink {
 public:
  RequestSink(std::weak_ptr<Connection> conn, std::shared_ptr<Shared> shared, uint64_t seq,
              uint32_t max_stream_buffer)
      : conn_(std::move(conn)), shared_(std::move(shared)), seq_(seq), max_stream_buffer_(max_stream_buffer) {}

  void Respond(Response r) override {
    if (done_.exchange(true)) return;
    {
      std::lock_guard lock(inline_mu_);
      if (inline_ && inline_thread_ == std::this_thread::get_id()) {
        inline_response_ = std::move(r);
        return;
      }
    }
    auto c = conn_.lock();
    if (!c) return;
    std::lock_guard lock(shared_->mu);
    if (!shared_->alive) return;
    asio::post(c->executor(), [c, seq = seq_, r = std::move(r)]() mutable { c->SendResponse(seq, std::move(r)); });
  }

  std::shared_ptr<StreamWriter> StartStream(int status, std::string content_type) override {
    auto w = std::make_shared<StreamImpl>(conn_, shared_, max_stream_buffer_);
    if (done_.exchange(true)) {
      w->MarkClosed();
      return w;
    }
    auto c = conn_.lock();
    std::lock_guard lock(shared_->mu);
    if (!c || !shared_->alive) {
      w->MarkClosed();
      return w;
    }
    asio::post(c->executor(), [c, seq = seq_, status, ct = std::move(content_type), w]() mutable {
      c->BeginStream(seq, status, std::move(ct), w);
    });
    return w;
  }

  bool done() const { return done_; }

  // While the connection's strand runs the handler: an answer given on that
  // thread meanwhile is kept (EndInline returns it) instead of posted back
  // to the strand, so a synchronous handler costs no post and no timer.
  void BeginInline() {
    std::lock_guard lock(inline_mu_);
    inline_ = true;
    inline_thread_ = std::this_thread::get_id();
  }
  std::optional<Response> EndInline() {
    std::lock_guard lock(inline_mu_);
    inline_ = false;
    return std::exchange(inline_response_, std::nullopt);
  }

 private:
  std::weak_ptr<Connection> conn_;
  std::shared_ptr<Shared> shared_;
  const uint64_t seq_;
  const uint32_t max_stream_buffer_;
  std::atomic<bool> done_{false};
  std::mutex inline_mu_;
  bool inline_ = false;
  std::thread::id inline_thread_;
  std::optional<Response> inline_response_;
};

bool StreamImpl::Write(std::string data) {
  std::lock_guard lock(mu_);
  if (closed_ || close_requested_) return false;
  if (pending_bytes_ + data.size() > max_buffer_) {
    // The client reads too slowly: end the stream rather than buffer without bound.
    closed_ = true;
    pending_.clear();
    if (auto c = conn_.lock()) {
      std::lock_guard slock(shared_->mu);
      if (shared_->alive) c->ForceClose();
    }
    return false;
  }
  pending_bytes_ += data.size();
  pending_.push_back(std::move(data));
  ScheduleFlush();
  return true;
}

void StreamImpl::Close() {
  std::lock_guard lock(mu_);
  if (closed_ || close_requested_) return;
  close_requested_ = true;
  ScheduleFlush();
}

void StreamImpl::ScheduleFlush() {
  if (flush_scheduled_) return;
  auto c = conn_.lock();
  if (!c) return;
  std::lock_guard slock(shared_->mu);
  if (!shared_->alive) return;
  flush_scheduled_ = true;
  asio::post(c->executor(), [c] { c->FlushStream(); });
}

void Connection::DoRead() {
  if (state_ == State::kClosed) return;
  if (s_.stopping_ || close_after_response_) return Close();
  state_ = State::kIdle;
  parser_.emplace();
  parser_->header_limit(s_.opts_.limits.max_header_bytes);
  parser_->body_limit(s_.opts_.limits.max_body_bytes);
  if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
  // Wait for the first byte under the idle timeout; the header deadline starts
  // then. A new connection gets only the header deadline: sockets that never
  // send a byte must not hold connection slots for a keep-alive's idle time.
  const uint32_t wait_ms =
      seq_ == 0 ? s_.opts_.limits.read_header_timeout_ms : s_.opts_.limits.idle_timeout_ms;
  stream_.expires_after(std::chrono::milliseconds(wait_ms));
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, size_t n) {
    if (ec) return self->Close();  // idle timeout, client closed, or shutdown
    self->buffer_.commit(n);
    self->ReadHeader();
  });
}

void Connection::ReadHeader() {
  state_ = State::kReadingHeader;
  stream_.expires_after(std::chrono::milliseconds(s_.opts_.limits.read_header_timeout_ms));
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
}

void Connection::OnHeader(error_code ec) {
  if (state_ == State::kClosed) return;
  ++seq_;
  start_ = Clock::now();
  method_ = "?";
  if (ec == bhttp::error::header_limit) return Fail(ResourceExhausted("request headers too large"), 431);
  if (ec == bhttp::error::body_limit) return Fail(ResourceExhausted("request body too large"), 413);
  if (ec == beast::error::timeout) return Fail(DeadlineExceeded("request headers not received in time"), 408);
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
    return Close();
  if (ec) return Fail(InvalidArgument("malformed request: " + ec.message()), 400);
  const auto& req = parser_->get();
  method_ = std::string(SV(req.method_string()));
  if (req.target().size() > s_.opts_.limits.max_url_bytes)
    return Fail(ResourceExhausted("request URL too long"), 414);
  auto len = parser_->content_length();
  if (len && *len > s_.opts_.limits.max_body_bytes)
    return Fail(ResourceExhausted("request body too large"), 413);
  if (auto it = req.find(bhttp::field::expect); it != req.end() && Lower(SV(it->value())) == "100-continue" &&
      !parser_->is_done()) {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(std::chrono::milliseconds(s_.opts_.limits.request_timeout_ms));
    asio::async_write(stream_, asio::buffer(kContinue), [self = shared_from_this()](error_code wec, size_t) {
      if (wec) return self->Close();
      self->ReadBody();
    });
    return;
  }
  ReadBody();
}

void Connection::ReadBody() {
  state_ = State::kReadingBody;
  stream_.expires_after(std::chrono::milliseconds(s_.opts_.limits.request_timeout_ms));
  bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) { self->OnBody(ec); });
}

void Connection::OnBody(error_code ec) {
  if (state_ == State::kClosed) return;
  if (ec == bhttp::error::body_limit) return Fail(ResourceExhausted("request body too large"), 413);
  if (ec == beast::error::timeout) return Fail(DeadlineExceeded("request body not received in time"), 408);
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
    return Close();
  if (ec) return Fail(InvalidArgument("malformed request: " + ec.message()), 400);
  Dispatch();
}

void Connection::Dispatch() {
  state_ = State::kHandling;
  stream_.expires_never();
  auto& req = parser_->get();
  keep_alive_ = req.keep_alive();
  version_ = req.version();
  Request r;
  r.method = method_;
  r.target = std::string(SV(req.target()));
  size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  route_ = "unmatched";
  if (r.path.empty() || r.path[0] != '/') return Fail(InvalidArgument("request target must be a path"), 400);
  if (q != std::string::npos && !ParseQuery(std::string_view(r.target).substr(q + 1), &r.query))
    return Fail(InvalidArgument("malformed query string"), 400);
  for (const auto& f : req) r.headers.emplace_back(Lower(SV(f.name_string())), std::string(SV(f.value())));
  r.body = std::move(req.body());
  r.remote = remote_;

  Router::Match m = s_.router_.Find(r.method, r.path);
  if (m.kind == Router::Match::kNotFound) {
    return SendResponse(seq_, ErrorResponse(NotFound("no route for " + r.path)));
  }
  if (m.kind == Router::Match::kMethodNotAllowed) {
    std::string allow;
    for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
    Response resp = ErrorResponse(InvalidArgument("method " + r.method + " not allowed on " + r.path), 405);
    resp.headers.emplace_back("Allow", allow);
    return SendResponse(seq_, std::move(resp));
  }
  route_ = m.pattern;
  r.route = m.pattern;
  r.params = std::move(m.params);
  sink_ = std::make_shared<RequestSink>(weak_from_this(), shared_, seq_, s_.opts_.limits.max_stream_buffer_bytes);
  sink_->BeginInline();
  (*m.handler)(std::move(r), Responder(sink_));
  if (std::optional<Response> answer = sink_->EndInline()) return SendResponse(seq_, std::move(*answer));
  if (sink_->done()) return;  // answered from another thread, or streaming: the strand has it queued
  handler_timer_.expires_after(std::chrono::milliseconds(s_.opts_.limits.handler_timeout_ms));
  // The pending timer also keeps this connection alive while the handler
  // works (the Responder only holds it weakly); answering cancels it.
  handler_timer_.async_wait([self = shared_from_this(), sink = std::weak_ptr<RequestSink>(sink_)](error_code ec) {
    if (ec) return;
    if (auto sk = sink.lock()) sk->Respond(ErrorResponse(DeadlineExceeded("handler did not answer in time")));
  });
}

void Connection::SendResponse(uint64_t seq, Response r) {
  if (state_ != State::kHandling || seq != seq_) return;  // closed, or a stale answer
  handler_timer_.cancel();
  sink_.reset();
  state_ = State::kWriting;
  s_.Record(method_, route_, r.status, start_, &series_);
  const bool keep = keep_alive_ && !close_after_response_ && !s_.stopping_;
  // The head is written here rather than by Beast's serializer (the same
  // bytes Beast writes for these fields; no per-response field allocations):
  // status line, Server, Content-Type, extra headers, Content-Length, and
  // Connection as keep_alive() sets it for the request's HTTP version.
  const auto code = static_cast<unsigned>(r.status);
  out_head_.clear();
  out_head_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  AppendDecimal(code, &out_head_);
  out_head_ += ' ';
  out_head_ += SV(bhttp::obsolete_reason(bhttp::int_to_status(code)));
  out_head_ += "\r\nServer: ";
  out_head_ += s_.opts_.server_name;
  out_head_ += "\r\nContent-Type: ";
  out_head_ += r.content_type;
  out_head_ += "\r\n";
  for (const auto& [k, v] : r.headers) {
    out_head_ += k;
    out_head_ += ": ";
    out_head_ += v;
    out_head_ += "\r\n";
  }
  out_head_ += "Content-Length: ";
  AppendDecimal(r.body.size(), &out_head_);
  out_head_ += "\r\n";
  if (version_ >= 11 && !keep) out_head_ += "Connection: close\r\n";
  if (version_ < 11 && keep) out_head_ += "Connection: keep-alive\r\n";
  out_head_ += "\r\n";
  out_body_ = std::move(r.body);
  stream_.expires_after(std::chrono::milliseconds(s_.opts_.limits.request_timeout_ms));
  const bool protocol_error = close_after_response_ && route_ == "unmatched";
  const std::array<asio::const_buffer, 2> bufs{asio::buffer(out_head_), asio::buffer(out_body_)};
  asio::async_write(stream_, bufs, [self = shared_from_this(), keep, protocol_error](error_code ec, size_t) {
    // An idle keep-alive connection must not hold on to a large answer (a
    // block can be megabytes, times hundreds of connections).
    if (self->out_body_.capacity() > (size_t{64} << 10)) std::string().swap(self->out_body_);
    if (ec || self->state_ == State::kClosed) return self->Close();
    if (!keep) return protocol_error ? self->Linger() : self->Close();
    self->DoRead();
  });
}

void Connection::BeginStream(uint64_t seq, int status, std::string content_type, std::shared_ptr<StreamImpl> w) {
  if (state_ != State::kHandling || seq != seq_) {
    w->MarkClosed();
    return;
  }
  handler_timer_.cancel();
  sink_.reset();
  s_.Record(method_, route_, status, start_, &series_);
  state_ = State::kStreaming;
  stream_writer_ = std::move(w);
  bhttp::response<bhttp::empty_body> head;
  head.version(version_);
  head.result(static_cast<unsigned>(status));
  head.set(bhttp::field::server, s_.opts_.server_name);
  head.set(bhttp::field::content_type, content_type);
  head.set(bhttp::field::cache_control, "no-cache");
  head.set(bhttp::field::transfer_encoding, "chunked");
  head.keep_alive(false);
  std::ostringstream os;
  os << head.base();
  auto text = std::make_shared<std::string>(os.str());
  stream_writing_ = true;
  stream_.expires_never();
  WatchStreamClient();
  stream_.expires_after(std::chrono::milliseconds(s_.opts_.limits.request_timeout_ms));
  asio::async_write(stream_, asio::buffer(*text), [self = shared_from_this(), text](error_code ec, size_t) {
    self->stream_writing_ = false;
    if (ec) return self->Close();
    self->FlushStream();
  });
}

void Connection::FlushStream() {
  if (state_ != State::kStreaming || stream_writing_ || !stream_writer_) return;
  bool finish = false;
  auto data = std::make_shared<std::string>(stream_writer_->Take(&finish));
  if (finish) *data += "0\r\n\r\n";
  if (data->empty()) return;
  stream_writing_ = true;
  stream_.expires_after(std::chrono::milliseconds(s_.opts_.limits.request_timeout_ms));
  asio::async_write(stream_, asio::buffer(*data), [self = shared_from_this(), data, finish](error_code ec, size_t) {
    self->stream_writing_ = false;
    if (ec || finish) {
      if (self->stream_writer_) self->stream_writer_->MarkClosed();
      return self->Close();
    }
    self->FlushStream();
  });
}

// ------------------------------------------------------------------ Impl

HttpServer::Impl::~Impl() {
  std::lock_guard lock(shared_->mu);
  shared_->alive = false;
}

Status HttpServer::Impl::Init() {
  CL_RETURN_IF_ERROR(ValidateHttpLimits(opts_.limits));
  if (opts_.io_threads == 0 || opts_.io_threads > 64) return InvalidArgument("http: io_threads must be 1..64");
  CL_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(opts_.listen_address));
  error_code ec;
  auto addr = asio::ip::make_address(hp.host, ec);
  if (ec) return InvalidArgument("http: listen address must be an IP address: " + hp.host);
  tcp::endpoint ep(addr, hp.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return IoError("http: cannot listen on " + opts_.listen_address + ": " + ec.message());
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

void HttpServer::Impl::Start() {
  CL_CHECK(!started_, "HttpServer::Start called twice");
  started_ = true;
  work_.emplace(ioc_.get_executor());
  asio::post(ioc_, [this] { Accept(); });
  for (uint32_t i = 0; i < opts_.io_threads; ++i) {
    ++running_threads_;
    threads_.emplace_back([this] {
      NameThisThread("cl-http");
      ioc_.run();
      --running_threads_;
    });
  }
  opts_.log.Info("http_started", {{"port", port_}, {"io_threads", opts_.io_threads}});
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](error_code ec, tcp::socket sock) {
    if (stopping_ || ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (shared_->open >= opts_.limits.max_connections) {
        Reject(std::move(sock));
      } else {
        ++shared_->open;
        auto c = std::make_shared<Connection>(*this, std::move(sock));
        {
          std::lock_guard lock(conns_mu_);
          conns_.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
          conns_.push_back(c);
        }
        if (opts_.metrics)
          opts_.metrics->GetGauge("certledger_http_connections_open", "Open HTTP connections.")
              .Set(shared_->open);
        c->Start();
      }
    }
    Accept();
  });
}

void HttpServer::Impl::Reject(tcp::socket sock) {
  if (opts_.metrics)
    opts_.metrics->GetCounter("certledger_http_connections_rejected_total",
                              "Connections refused because max_connections were open.").Inc();
  Response r = ErrorResponse(Unavailable("too many connections"), 503);
  auto text = std::make_shared<std::string>(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n" + r.body);
  auto s = std::make_shared<tcp::socket>(std::move(sock));
  asio::async_write(*s, asio::buffer(*text), [s, text](error_code, size_t) {
    error_code ignored;
    s->shutdown(tcp::socket::shutdown_both, ignored);
    s->close(ignored);
  });
}

// The method as a metric label: the standard ones by name, anything else as
// "other", so a client cannot add series (memory) by inventing methods.
static std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
    if (method == known) return known;
  return "other";
}

void HttpServer::Impl::Record(std::string_view raw_method, std::string_view route, int status,
                              Clock::time_point start, SeriesCache* cache) {
  if (!opts_.metrics) return;
  const std::string_view method = MethodLabel(raw_method);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (cache->requests == nullptr || cache->status != status || cache->method != method || cache->route != route) {
    Labels labels{{"method", std::string(method)}, {"route", std::string(route)}, {"status", std::to_string(status)}};
    cache->requests = &opts_.metrics->GetCounter("certledger_http_requests_total", "HTTP requests answered.", labels);
    static const std::vector<double> kBuckets = LatencyBucketsSeconds();
    cache->duration = &opts_.metrics->GetHistogram("certledger_http_request_duration_seconds",
                                                   "Time from request headers to response written.", kBuckets,
                                                   labels);
    cache->method = method;
    cache->route = route;
    cache->status = status;
  }
  cache->requests->Inc();
  cache->duration->Observe(secs);
}

void HttpServer::Impl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_ = true;
  asio::post(ioc_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(conns_mu_);
    for (auto& w : conns_)
      if (auto c = w.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) c->Shutdown();
  live.clear();
  auto deadline = Clock::now() + std::chrono::milliseconds(opts_.limits.shutdown_grace_ms);
  while (shared_->open > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    std::lock_guard lock(conns_mu_);
    for (auto& w : conns_)
      if (auto c = w.lock()) c->ForceClose();
    conns_.clear();
  }
  work_.reset();
  auto hard = Clock::now() + std::chrono::seconds(2);
  while (running_threads_ > 0 && Clock::now() < hard) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  {
    std::lock_guard lock(shared_->mu);
    shared_->alive = false;
  }
  opts_.log.Info("http_stopped");
}

// ------------------------------------------------------------------ HttpServer

Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions options, Router router) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(router));
  CL_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }
void HttpServer::Start() { impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
uint16_t HttpServer::port() const { return impl_->port_; }

}  // namespace cl::node::http
