// Peer transport over Boost.Asio. Everything that touches a socket, a timer or
// a Connection runs on the single I/O thread; the only state shared with
// other threads is the peer table with its send queues (mu_) and the stats
// (atomics).
#include "node/transport/transport.h"

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "base/thread_name.h"
#include "node/address.h"
#include "node/transport/handshake.h"
#include "proto/peer.pb.h"

namespace cl::node {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

std::string_view ChannelName(Channel ch) {
  switch (ch) {
    case Channel::kRaft: return "raft";
    case Channel::kHeaderSig: return "header_sig";
    case Channel::kForward: return "forward";
    case Channel::kSnapshot: return "snapshot";
  }
  return "unknown";
}

namespace {
// PeerFrame encoding overhead over the payload (tags, lengths), generously.
constexpr size_t kFrameOverhead = 32;
// Frames gathered into one socket write, at most.
constexpr size_t kMaxWriteBatchBytes = 256 << 10;
}  // namespace

class Connection;

// A peer and its send queues. Queue fields are guarded by Impl::mu_; the
// connection/dial fields are touched only on the I/O thread.
struct PeerState {
  explicit PeerState(asio::io_context& ioc) : redial_timer(ioc) {}
  PeerInfo info;
  std::array<std::deque<Bytes>, kNumChannels> queues;
  std::array<uint64_t, kNumChannels> queued_bytes{};
  bool pump_scheduled = false;
  bool removed = false;
  std::atomic<bool> connected{false};
  // I/O thread only.
  std::shared_ptr<Connection> conn;  // the authenticated link, if any
  bool dialing = false;              // a dial is scheduled or in progress
  uint32_t backoff_ms = 0;
  asio::steady_timer redial_timer;
  // The dial in progress (resolve + connect), so Stop can abort it.
  std::shared_ptr<tcp::resolver> dial_resolver;
  std::shared_ptr<tcp::socket> dial_socket;
  std::shared_ptr<asio::steady_timer> dial_deadline;
  void AbortDial() {
    error_code ignored;
    if (dial_resolver) dial_resolver->cancel();
    if (dial_socket) dial_socket->close(ignored);
    if (dial_deadline) dial_deadline->cancel();
    dial_resolver.reset();
    dial_socket.reset();
    dial_deadline.reset();
  }
};

class Transport::Impl {
 public:
  Impl(TransportOptions options, crypto::SecretKey secret)
      : opts_(std::move(options)),
        secret_(std::move(secret)),
        log_(opts_.log.With({{"node", opts_.self}})),
        acceptor_(ioc_),
        rng_(opts_.jitter_seed != 0 ? opts_.jitter_seed : std::random_device{}()) {}

  Status Init();
  void Start();
  void Stop();
  bool Send(NodeId to, Bytes payload, Channel ch);
  void AddPeer(PeerInfo peer);
  void RemovePeer(NodeId id);
  bool IsConnected(NodeId peer) const;
  TransportStats Stats() const;

  // --- used by Connection (I/O thread) ---
  std::optional<Bytes> KeyOf(NodeId id) const;
  void OnAuthenticated(const std::shared_ptr<Connection>& c, NodeId peer, bool outbound);
  void OnClosed(Connection* c, NodeId peer, bool was_authenticated, bool outbound);
  // Pops queued payloads for `peer` into PeerFrame DATA plaintexts, highest
  // priority first, up to about `budget` bytes.
  std::vector<Bytes> TakeFrames(NodeId peer, size_t budget);
  void Deliver(NodeId from, Channel ch, Bytes payload) {
    if (handler_) handler_(from, ch, std::move(payload));
  }

  TransportOptions opts_;
  crypto::SecretKey secret_;
  PeerIdentity identity_;
  Logger log_;
  Handler handler_;
  PeerStateHandler peer_handler_;

  // Declared before everything that registers with it, so it is destroyed last.
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::future<void> thread_done_;
  uint16_t listen_port_ = 0;
  bool started_ = false;  // guarded by mu_ (written once, before the I/O thread exists)
  bool stopped_ = false;  // guarded by mu_
  bool stopping_ = false;  // I/O thread: no new work is armed once set

  mutable std::mutex mu_;
  std::map<NodeId, std::shared_ptr<PeerState>> peers_;  // guarded by mu_ (map and queues)

  // I/O thread only.
  std::set<std::shared_ptr<Connection>> conns_;
  uint32_t pending_inbound_ = 0;
  std::mt19937_64 rng_;

  struct AtomicStats {
    std::atomic<uint64_t> frames_sent{0}, frames_received{0}, bytes_sent{0}, bytes_received{0},
        dropped_queue_full{0}, dropped_unknown_peer{0}, handshakes_ok{0}, handshake_failures{0},
        decrypt_failures{0}, oversize_frames{0}, connections_closed{0};
  } stats_;

 private:
  void Accept();
  void ScheduleDial(const std::shared_ptr<PeerState>& p, bool immediately);
  void Dial(const std::shared_ptr<PeerState>& p);
  void SchedulePump(NodeId id, PeerState& p);  // requires mu_ held
  void Pump(NodeId id);
  std::shared_ptr<PeerState> Find(NodeId id) const {
    std::lock_guard lock(mu_);
    auto it = peers_.find(id);
    return it == peers_.end() ? nullptr : it->second;
  }
};

// One TCP connection: handshake, then sealed frames both ways.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Transport::Impl& t, tcp::socket sock, bool outbound, NodeId dialled)
      : t_(t), sock_(std::move(sock)), timer_(t.ioc_), outbound_(outbound), peer_(dialled) {}

  // Starts the handshake (the socket is connected).
  void Start(std::optional<Bytes> dialled_key) {
    error_code ignored;
    sock_.set_option(tcp::no_delay(true), ignored);
    remote_ = RemoteText();
    ArmHandshakeTimer();
    if (outbound_) {
      initiator_ = std::make_unique<HandshakeInitiator>(t_.identity_, peer_, std::move(*dialled_key));
      QueueRaw(EncodeFrame(initiator_->Hello()));
    } else {
      responder_ = std::make_unique<HandshakeResponder>(
          t_.identity_, [this](NodeId id) { return t_.KeyOf(id); });
    }
    ReadHeader();
  }

  void ArmHandshakeTimer() {
    timer_.expires_after(std::chrono::milliseconds(t_.opts_.limits.handshake_timeout_ms));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && !self->cipher_) self->Fail("handshake_timeout", DeadlineExceeded("handshake timed out"));
    });
  }

  // Queues a sealed control frame (PING/PONG).
  void QueueControl(certledger::peer::PeerFrame::Kind kind) {
    certledger::peer::PeerFrame f;
    f.set_kind(kind);
    QueueRaw(cipher_->Seal(f.SerializeAsString()));
  }

  // Writes pending control frames, then queued payloads.
  void Pump() {
    if (closed_ || writing_) return;
    Bytes buf;
    while (!control_.empty()) {
      buf += control_.front();
      control_.pop_front();
    }
    size_t frames = 0;
    if (cipher_) {
      for (Bytes& plain : t_.TakeFrames(peer_, kMaxWriteBatchBytes)) {
        buf += cipher_->Seal(plain);
        ++frames;
      }
    }
    if (buf.empty()) return;
    writing_ = true;
    write_buf_ = std::move(buf);
    asio::async_write(sock_, asio::buffer(write_buf_),
                      [self = shared_from_this(), frames](error_code ec, size_t n) {
                        self->writing_ = false;
                        if (ec) return self->Fail("write_failed", IoError(ec.message()));
                        self->t_.stats_.frames_sent += frames;
                        self->t_.stats_.bytes_sent += n;
                        self->last_send_ = Clock::now();
                        self->Pump();
                      });
  }

  // Closes the socket; idempotent. Tells the transport once.
  void Close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    sock_.shutdown(tcp::socket::shutdown_both, ignored);
    sock_.close(ignored);
    ++t_.stats_.connections_closed;
    t_.OnClosed(this, peer_, authenticated_, outbound_);
  }

  bool authenticated() const { return authenticated_; }
  const std::string& remote() const { return remote_; }

 private:
  std::string RemoteText() const {
    error_code ec;
    auto ep = sock_.remote_endpoint(ec);
    return ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void Fail(std::string_view event, const Status& why) {
    if (closed_) return;
    if (!authenticated_) ++t_.stats_.handshake_failures;
    t_.log_.Warn(event, {{"peer", peer_}, {"remote", remote_}, {"outbound", outbound_ ? 1 : 0},
                         {"error", why}});
    Close();
  }

  void QueueRaw(Bytes frame) {
    control_.push_back(std::move(frame));
    Pump();
  }

  size_t MaxBody() const {
    return cipher_ ? t_.opts_.limits.max_frame_bytes + kFrameOverhead + kAeadTagBytes
                   : kMaxHandshakeFrameBytes;
  }

  void ReadHeader() {
    asio::async_read(sock_, asio::buffer(header_),
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->Fail("read_failed", IoError(ec.message()));
                       uint32_t len = ReadBigEndian32(ByteView(self->header_.data(), kFrameHeaderBytes));
                       if (len > self->MaxBody()) {
                         ++self->t_.stats_.oversize_frames;
                         return self->Fail("frame_rejected",
                                           ResourceExhausted("frame of " + std::to_string(len) +
                                                             " bytes exceeds the limit"));
                       }
                       self->body_.resize(len);
                       self->ReadBody();
                     });
  }

  void ReadBody() {
    asio::async_read(sock_, asio::buffer(body_),
                     [self = shared_from_this()](error_code ec, size_t n) {
                       if (ec) return self->Fail("read_failed", IoError(ec.message()));
                       self->t_.stats_.bytes_received += n + kFrameHeaderBytes;
                       self->last_recv_ = Clock::now();
                       Status s = self->OnFrame();
                       if (!s.ok()) return self->Fail("frame_rejected", s);
                       if (!self->closed_) self->ReadHeader();
                     });
  }

  Status OnFrame() {
    ByteView header(header_.data(), kFrameHeaderBytes);
    if (cipher_) {
      auto plain = cipher_->Open(header, body_);
      if (!plain.ok()) {
        ++t_.stats_.decrypt_failures;
        return plain.status();
      }
      return OnPlainFrame(*plain);
    }
    if (outbound_) {
      CL_ASSIGN_OR_RETURN(auto fin, initiator_->OnReply(body_));
      QueueRaw(EncodeFrame(fin.first));
      return Authenticated(std::move(fin.second));
    }
    if (!hello_done_) {
      CL_ASSIGN_OR_RETURN(Bytes reply, responder_->OnHello(body_));
      hello_done_ = true;
      peer_ = responder_->initiator();
      QueueRaw(EncodeFrame(reply));
      return Status::Ok();
    }
    CL_ASSIGN_OR_RETURN(Session s, responder_->OnFinish(body_));
    return Authenticated(std::move(s));
  }

  Status Authenticated(Session s) {
    cipher_.emplace(std::move(s.cipher));
    peer_ = s.peer;
    authenticated_ = true;
    initiator_.reset();
    responder_.reset();
    ++t_.stats_.handshakes_ok;
    last_recv_ = last_send_ = Clock::now();
    t_.OnAuthenticated(shared_from_this(), peer_, outbound_);
    if (!closed_) ArmKeepalive();
    return Status::Ok();
  }

  void ArmKeepalive() {
    timer_.expires_after(std::chrono::milliseconds(t_.opts_.limits.keepalive_interval_ms));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      const auto now = Clock::now();
      const auto& lim = self->t_.opts_.limits;
      if (now - self->last_recv_ >= std::chrono::milliseconds(lim.idle_timeout_ms))
        return self->Fail("peer_idle", DeadlineExceeded("nothing received within idle_timeout_ms"));
      if (now - self->last_send_ >= std::chrono::milliseconds(lim.keepalive_interval_ms))
        self->QueueControl(certledger::peer::PeerFrame::PING);
      self->ArmKeepalive();
    });
  }

  Status OnPlainFrame(ByteView plain) {
    certledger::peer::PeerFrame f;
    if (!f.ParseFromArray(plain.data(), static_cast<int>(plain.size())))
      return InvalidArgument("peer frame does not decode");
    switch (f.kind()) {
      case certledger::peer::PeerFrame::DATA:
        if (f.channel() >= kNumChannels)
          return InvalidArgument("unknown channel " + std::to_string(f.channel()));
        ++t_.stats_.frames_received;
        t_.Deliver(peer_, static_cast<Channel>(f.channel()), std::move(*f.mutable_payload()));
        return Status::Ok();
      case certledger::peer::PeerFrame::PING:
        QueueControl(certledger::peer::PeerFrame::PONG);
        return Status::Ok();
      case certledger::peer::PeerFrame::PONG:
        return Status::Ok();
      default:
        return InvalidArgument("unknown peer frame kind");
    }
  }

  Transport::Impl& t_;
  tcp::socket sock_;
  asio::steady_timer timer_;  // handshake deadline, then keepalive ticks
  const bool outbound_;
  NodeId peer_;  // dialled id (outbound) or claimed id (inbound, after hello)
  std::string remote_;
  std::unique_ptr<HandshakeInitiator> initiator_;
  std::unique_ptr<HandshakeResponder> responder_;
  bool hello_done_ = false;
  bool authenticated_ = false;
  std::optional<FrameCipher> cipher_;
  bool closed_ = false;
  std::array<char, kFrameHeaderBytes> header_{};
  Bytes body_;
  std::deque<Bytes> control_;  // wire-ready frames that go before payloads
  bool writing_ = false;
  Bytes write_buf_;
  Clock::time_point last_recv_ = Clock::now(), last_send_ = Clock::now();
};

Status ValidateTransportLimits(const TransportLimits& l) {
  const std::pair<const char*, uint64_t> fields[] = {
      {"max_frame_bytes", l.max_frame_bytes},
      {"max_queue_messages", l.max_queue_messages},
      {"max_queue_bytes", l.max_queue_bytes},
      {"handshake_timeout_ms", l.handshake_timeout_ms},
      {"keepalive_interval_ms", l.keepalive_interval_ms},
      {"idle_timeout_ms", l.idle_timeout_ms},
      {"reconnect_initial_ms", l.reconnect_initial_ms},
      {"reconnect_max_ms", l.reconnect_max_ms},
      {"max_pending_handshakes", l.max_pending_handshakes},
  };
  for (const auto& [name, v] : fields) {
    if (v == 0) return InvalidArgument(std::string("transport.") + name + " must be positive");
  }
  if (l.max_frame_bytes > (1u << 30)) return InvalidArgument("transport.max_frame_bytes must be at most 1 GiB");
  if (l.idle_timeout_ms <= l.keepalive_interval_ms)
    return InvalidArgument("transport.idle_timeout_ms must exceed transport.keepalive_interval_ms");
  if (l.reconnect_max_ms < l.reconnect_initial_ms)
    return InvalidArgument("transport.reconnect_max_ms must be at least transport.reconnect_initial_ms");
  return Status::Ok();
}

// ------------------------------------------------------------------ Impl

Status Transport::Impl::Init() {
  if (opts_.self == NodeId(0)) return InvalidArgument("transport: self node id must not be 0");
  if (!opts_.suite) return InvalidArgument("transport: suite is required");
  if (opts_.chain_id.empty()) return InvalidArgument("transport: chain_id is required");
  CL_RETURN_IF_ERROR(ValidateTransportLimits(opts_.limits));
  auto pub = opts_.suite->PublicKeyOf(secret_);
  if (!pub.ok()) return pub.status().WithContext("transport: node secret key");
  identity_ = PeerIdentity{.id = opts_.self,
                           .chain_id = opts_.chain_id,
                           .suite = opts_.suite.get(),
                           .secret_key = &secret_,
                           .public_key = *pub};
  for (const PeerInfo& p : opts_.peers) {
    if (p.id == opts_.self || p.id == NodeId(0)) continue;  // genesis lists us too
    if (p.public_key.size() != opts_.suite->public_key_size())
      return InvalidArgument("transport: peer " + std::to_string(p.id.value()) +
                             " has a public key of the wrong size for " +
                             std::string(opts_.suite->name()));
    if (p.id > opts_.self) CL_RETURN_IF_ERROR(ParseHostPort(p.address));
    auto ps = std::make_shared<PeerState>(ioc_);
    ps->info = p;
    peers_[p.id] = std::move(ps);
  }
  CL_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(opts_.listen_address));
  error_code ec;
  auto addr = asio::ip::make_address(listen.host, ec);
  if (ec) return InvalidArgument("transport: listen address must be an IP address: " + listen.host);
  tcp::endpoint ep(addr, listen.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return IoError("transport: cannot listen on " + opts_.listen_address + ": " + ec.message());
  listen_port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

void Transport::Impl::Start() {
  {
    std::lock_guard lock(mu_);  // Send reads started_ under mu_
    CL_CHECK(!started_, "Transport::Start called twice");
    started_ = true;
  }
  work_.emplace(ioc_.get_executor());
  asio::post(ioc_, [this] {
    std::vector<std::shared_ptr<PeerState>> dial;
    {
      std::lock_guard lock(mu_);
      log_.Info("transport_started", {{"port", listen_port_}, {"peers", peers_.size()}});
      for (auto& [id, p] : peers_)
        if (id > opts_.self) dial.push_back(p);
    }
    Accept();
    for (auto& p : dial) ScheduleDial(p, /*immediately=*/true);
  });
  std::packaged_task<void()> run([this] {
    NameThisThread("cl-peer-io");
    ioc_.run();
  });
  thread_done_ = run.get_future();
  thread_ = std::thread(std::move(run));
}

void Transport::Impl::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
  }
  asio::post(ioc_, [this] {
    stopping_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    std::vector<std::shared_ptr<PeerState>> all;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, p] : peers_) all.push_back(p);
    }
    for (auto& p : all) {
      p->redial_timer.cancel();
      p->AbortDial();
    }
    auto conns = conns_;
    for (auto& c : conns) c->Close();
    conns_.clear();
    work_.reset();
  });
  // Every socket and timer is closed, so run() returns once the aborted
  // operations' handlers ran; the deadline only guards against a bug.
  if (thread_done_.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    log_.Error("transport_stop_forced");
    ioc_.stop();
  }
  thread_.join();
  log_.Info("transport_stopped");
}

std::optional<Bytes> Transport::Impl::KeyOf(NodeId id) const {
  auto p = Find(id);
  if (!p) return std::nullopt;
  std::lock_guard lock(mu_);
  return p->info.public_key;
}

void Transport::Impl::Accept() {
  acceptor_.async_accept([this](error_code ec, tcp::socket sock) {
    if (stopping_) return;
    if (!ec) {
      if (pending_inbound_ >= opts_.limits.max_pending_handshakes) {
        ++stats_.handshake_failures;
        log_.Warn("inbound_refused", {{"reason", "too many pending handshakes"}});
        error_code ignored;
        sock.close(ignored);
      } else {
        ++pending_inbound_;
        auto c = std::make_shared<Connection>(*this, std::move(sock), /*outbound=*/false, NodeId(0));
        conns_.insert(c);
        c->Start(std::nullopt);
      }
    } else if (ec == asio::error::operation_aborted) {
      return;
    }
    Accept();
  });
}

void Transport::Impl::ScheduleDial(const std::shared_ptr<PeerState>& p, bool immediately) {
  if (stopping_ || p->removed || p->dialing || p->conn || p->info.id < opts_.self) return;
  p->dialing = true;
  uint32_t delay = 0;
  if (!immediately) {
    const auto& lim = opts_.limits;
    p->backoff_ms = p->backoff_ms == 0 ? lim.reconnect_initial_ms
                                       : std::min(p->backoff_ms * 2, lim.reconnect_max_ms);
    // +-20% jitter so peers that lost a node at the same moment do not redial in step.
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    delay = static_cast<uint32_t>(p->backoff_ms * jitter(rng_));
  }
  p->redial_timer.expires_after(std::chrono::milliseconds(delay));
  p->redial_timer.async_wait([this, p](error_code ec) {
    if (ec || stopping_ || p->removed) {
      p->dialing = false;
      return;
    }
    Dial(p);
  });
}

void Transport::Impl::Dial(const std::shared_ptr<PeerState>& p) {
  std::string address;
  Bytes key;
  {
    std::lock_guard lock(mu_);
    address = p->info.address;
    key = p->info.public_key;
  }
  auto hp = ParseHostPort(address);
  CL_CHECK(hp.ok(), "peer addresses are validated when added");
  auto resolver = std::make_shared<tcp::resolver>(ioc_);
  auto sock = std::make_shared<tcp::socket>(ioc_);
  // The whole dial (resolve + connect) shares the handshake deadline.
  auto deadline = std::make_shared<asio::steady_timer>(ioc_);
  deadline->expires_after(std::chrono::milliseconds(opts_.limits.handshake_timeout_ms));
  deadline->async_wait([resolver, sock](error_code ec) {
    if (ec) return;
    resolver->cancel();
    error_code ignored;
    sock->close(ignored);
  });
  p->dial_resolver = resolver;
  p->dial_socket = sock;
  p->dial_deadline = deadline;
  auto failed = [this, p](std::string_view what, const error_code& ec) {
    p->AbortDial();
    p->dialing = false;
    if (stopping_) return;
    log_.Debug("dial_failed", {{"peer", p->info.id}, {"step", what}, {"error", ec.message()}});
    ScheduleDial(p, /*immediately=*/false);
  };
  resolver->async_resolve(
      hp->host, std::to_string(hp->port),
      [this, p, resolver, sock, deadline, failed, key](error_code ec, tcp::resolver::results_type r) {
        if (ec || stopping_) return failed("resolve", ec);
        asio::async_connect(*sock, r, [this, p, sock, deadline, failed, key](error_code ec2, const tcp::endpoint&) {
          if (ec2 || stopping_) return failed("connect", ec2);
          deadline->cancel();
          p->dial_resolver.reset();
          p->dial_socket.reset();
          p->dial_deadline.reset();
          auto c = std::make_shared<Connection>(*this, std::move(*sock), /*outbound=*/true, p->info.id);
          conns_.insert(c);
          c->Start(key);  // p->dialing stays true until the connection closes or authenticates
        });
      });
}

void Transport::Impl::OnAuthenticated(const std::shared_ptr<Connection>& c, NodeId peer,
                                      bool outbound) {
  if (!outbound) --pending_inbound_;  // inbound connections count as pending until here
  auto p = Find(peer);
  if (!p || p->removed) {
    c->Close();
    return;
  }
  std::shared_ptr<Connection> old = std::move(p->conn);
  p->conn = c;
  p->dialing = false;
  p->backoff_ms = 0;
  p->connected = true;
  if (old) {
    log_.Info("peer_link_replaced", {{"peer", peer}});
    old->Close();  // OnClosed sees p->conn != old and leaves the new link alone
  }
  log_.Info("peer_connected", {{"peer", peer}, {"remote", c->remote()}});
  if (peer_handler_) peer_handler_(peer, true);
  c->Pump();
}

void Transport::Impl::OnClosed(Connection* c, NodeId peer, bool was_authenticated, bool outbound) {
  std::shared_ptr<Connection> self;
  for (auto it = conns_.begin(); it != conns_.end(); ++it) {
    if (it->get() == c) {
      self = *it;  // keep alive until we return
      conns_.erase(it);
      break;
    }
  }
  if (!outbound && !was_authenticated && pending_inbound_ > 0) --pending_inbound_;
  auto p = peer == NodeId(0) ? nullptr : Find(peer);
  if (!p) return;
  if (was_authenticated && p->conn.get() == c) {
    p->conn.reset();
    p->connected = false;
    log_.Info("peer_disconnected", {{"peer", peer}});
    if (peer_handler_ && !stopping_) peer_handler_(peer, false);
  }
  if (outbound && !p->conn) {
    p->dialing = false;
    ScheduleDial(p, /*immediately=*/false);
  }
}

std::vector<Bytes> Transport::Impl::TakeFrames(NodeId peer, size_t budget) {
  std::vector<Bytes> out;
  std::lock_guard lock(mu_);
  auto it = peers_.find(peer);
  if (it == peers_.end()) return out;
  PeerState& p = *it->second;
  p.pump_scheduled = false;
  size_t used = 0;
  for (size_t ch = 0; ch < kNumChannels && used < budget; ++ch) {
    auto& q = p.queues[ch];
    while (!q.empty() && used < budget) {
      certledger::peer::PeerFrame f;
      f.set_kind(certledger::peer::PeerFrame::DATA);
      f.set_channel(static_cast<uint32_t>(ch));
      p.queued_bytes[ch] -= q.front().size();
      used += q.front().size();
      f.set_payload(std::move(q.front()));
      q.pop_front();
      out.push_back(f.SerializeAsString());
    }
  }
  return out;
}

void Transport::Impl::SchedulePump(NodeId id, PeerState& p) {
  if (p.pump_scheduled) return;
  p.pump_scheduled = true;
  asio::post(ioc_, [this, id] { Pump(id); });
}

void Transport::Impl::Pump(NodeId id) {
  auto p = Find(id);
  if (!p) return;
  if (p->conn) {
    p->conn->Pump();
  } else {
    std::lock_guard lock(mu_);
    p->pump_scheduled = false;  // queued until the link is up
  }
}

bool Transport::Impl::Send(NodeId to, Bytes payload, Channel ch) {
  const auto c = static_cast<size_t>(ch);
  CL_CHECK(c < kNumChannels, "invalid channel");
  std::lock_guard lock(mu_);
  if (stopped_) return false;
  auto it = peers_.find(to);
  if (it == peers_.end() || it->second->removed) {
    ++stats_.dropped_unknown_peer;
    return false;
  }
  PeerState& p = *it->second;
  if (payload.size() > opts_.limits.max_frame_bytes || p.queues[c].size() >= opts_.limits.max_queue_messages ||
      p.queued_bytes[c] + payload.size() > opts_.limits.max_queue_bytes) {
    ++stats_.dropped_queue_full;
    return false;
  }
  p.queued_bytes[c] += payload.size();
  p.queues[c].push_back(std::move(payload));
  if (started_) SchedulePump(to, p);
  return true;
}

void Transport::Impl::AddPeer(PeerInfo peer) {
  if (peer.id == opts_.self || peer.id == NodeId(0)) return;
  asio::post(ioc_, [this, peer = std::move(peer)]() mutable {
    if (stopping_) return;
    if (peer.public_key.size() != opts_.suite->public_key_size() ||
        (peer.id > opts_.self && !ParseHostPort(peer.address).ok())) {
      log_.Error("peer_rejected", {{"peer", peer.id}, {"reason", "bad key size or address"}});
      return;
    }
    std::shared_ptr<PeerState> old, fresh = std::make_shared<PeerState>(ioc_);
    fresh->info = peer;
    {
      std::lock_guard lock(mu_);
      auto& slot = peers_[peer.id];
      old = slot;
      if (old) {
        fresh->queues = std::move(old->queues);
        fresh->queued_bytes = old->queued_bytes;
        old->removed = true;
      }
      slot = fresh;
    }
    if (old) {
      old->redial_timer.cancel();
      if (old->conn) old->conn->Close();
    }
    log_.Info("peer_added", {{"peer", peer.id}, {"address", peer.address}});
    ScheduleDial(fresh, /*immediately=*/true);
  });
}

void Transport::Impl::RemovePeer(NodeId id) {
  asio::post(ioc_, [this, id] {
    std::shared_ptr<PeerState> p;
    {
      std::lock_guard lock(mu_);
      auto it = peers_.find(id);
      if (it == peers_.end()) return;
      p = it->second;
      p->removed = true;
      peers_.erase(it);
    }
    p->redial_timer.cancel();
    if (p->conn) {
      auto c = p->conn;
      p->conn.reset();
      p->connected = false;
      c->Close();
    }
    log_.Info("peer_removed", {{"peer", id}});
  });
}

bool Transport::Impl::IsConnected(NodeId peer) const {
  auto p = Find(peer);
  return p && p->connected.load();
}

TransportStats Transport::Impl::Stats() const {
  const auto& s = stats_;
  return TransportStats{.frames_sent = s.frames_sent,
                        .frames_received = s.frames_received,
                        .bytes_sent = s.bytes_sent,
                        .bytes_received = s.bytes_received,
                        .dropped_queue_full = s.dropped_queue_full,
                        .dropped_unknown_peer = s.dropped_unknown_peer,
                        .handshakes_ok = s.handshakes_ok,
                        .handshake_failures = s.handshake_failures,
                        .decrypt_failures = s.decrypt_failures,
                        .oversize_frames = s.oversize_frames,
                        .connections_closed = s.connections_closed};
}

// ------------------------------------------------------------------ Transport

Result<std::unique_ptr<Transport>> Transport::Create(TransportOptions options,
                                                     crypto::SecretKey secret_key) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(secret_key));
  CL_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transport::~Transport() { Stop(); }

void Transport::SetHandler(Handler handler) {
  CL_CHECK(!impl_->started_, "SetHandler must be called before Start");
  impl_->handler_ = std::move(handler);
}
void Transport::SetPeerStateHandler(PeerStateHandler handler) {
  CL_CHECK(!impl_->started_, "SetPeerStateHandler must be called before Start");
  impl_->peer_handler_ = std::move(handler);
}
void Transport::Start() { impl_->Start(); }
void Transport::Stop() { impl_->Stop(); }
bool Transport::Send(NodeId to, Bytes payload, Channel ch) { return impl_->Send(to, std::move(payload), ch); }
void Transport::AddPeer(PeerInfo peer) { impl_->AddPeer(std::move(peer)); }
void Transport::RemovePeer(NodeId id) { impl_->RemovePeer(id); }
bool Transport::IsConnected(NodeId peer) const { return impl_->IsConnected(peer); }
uint16_t Transport::listen_port() const { return impl_->listen_port_; }
TransportStats Transport::Stats() const { return impl_->Stats(); }

}  // namespace cl::node
