// The peer transport: one persistent, mutually authenticated, encrypted TCP
// connection per peer, carrying opaque payloads on prioritised channels.
//
// Connections. For each pair of nodes exactly one side dials: the node with
// the smaller id dials the larger (so two nodes never race to open two links);
// the larger id only accepts. A dialler that loses its link redials with
// exponential backoff plus jitter. When a peer opens a new authenticated
// connection, it replaces the old one (the old one is usually half-open after
// a restart). The handshake and framing are in handshake.h and
// docs/transport.md.
//
// Channels and priority. Every payload travels on a Channel. When a link can
// write, the queued frame of the highest-priority non-empty channel goes next
// (kRaft > kHeaderSig > kForward > kSnapshot), so a stream of snapshot chunks
// never delays heartbeats by more than one chunk: keep chunks well below
// max_frame_bytes (256 KiB is a good size).
//
// Queues and loss. Each peer has a bounded queue per channel (messages and
// bytes). When a queue is full, Send drops the NEW payload (the queued ones
// keep their order) and returns false, and dropped_queue_full counts it — as
// etcd does: raft tolerates loss and retries, and a caller streaming a
// snapshot uses the false return as backpressure. Payloads queued while a peer
// is disconnected are sent when it connects (raft ignores stale ones). Frames
// are not acknowledged: a payload accepted by Send may still be lost if the
// link breaks.
//
// Security. A connection whose handshake fails (unknown node id, a key other
// than the genesis key, another chain, bad signature, malformed or oversized
// message, timeout) is closed and logged. A sealed frame that does not
// authenticate (tampered, replayed, reordered) closes the connection. A length
// prefix above the limit closes the connection before anything is allocated.
//
// Threads. The transport owns one I/O thread (started by Start). The handlers
// run on that thread, one call at a time: they must be quick (hand the payload
// to another thread's queue). Send, Stats, AddPeer, RemovePeer and
// IsConnected are thread-safe; SetHandler/SetPeerStateHandler must be called
// before Start.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "crypto/suite.h"
#include "node/log.h"

namespace cl::node {

// Logical stream of a payload. Lower value = higher priority.
enum class Channel : uint8_t {
  kRaft = 0,       // raft messages (heartbeats, appends, votes)
  kHeaderSig = 1,  // header signatures for commit certificates
  kForward = 2,    // transactions forwarded to the leader
  kSnapshot = 3,   // snapshot chunks: bulk, lowest priority
};
inline constexpr size_t kNumChannels = 4;
std::string_view ChannelName(Channel ch);

// Limits and timing; defaults suit a city network of a few dozen nodes.
struct TransportLimits {
  uint32_t max_frame_bytes = 16 << 20;         // largest payload (a raft append, a chunk), 16 MiB
  uint32_t max_queue_messages = 4096;          // per peer and channel
  uint64_t max_queue_bytes = 64ull << 20;      // per peer and channel, 64 MiB
  uint32_t handshake_timeout_ms = 5000;        // from TCP connect/accept to authenticated
  uint32_t keepalive_interval_ms = 1000;       // PING when nothing was sent for this long
  uint32_t idle_timeout_ms = 10000;            // close when nothing was received for this long
  uint32_t reconnect_initial_ms = 100;         // first redial delay
  uint32_t reconnect_max_ms = 10000;           // cap of the exponential backoff
  uint32_t max_pending_handshakes = 64;        // unauthenticated inbound connections at once
};

// INVALID_ARGUMENT naming the field unless every limit is positive,
// max_frame_bytes <= 1 GiB, idle_timeout_ms > keepalive_interval_ms and
// reconnect_max_ms >= reconnect_initial_ms.
Status ValidateTransportLimits(const TransportLimits& limits);

// A peer: its node id, where to dial it (may be empty if we never dial it,
// i.e. its id is smaller than ours), and its genesis public key.
struct PeerInfo {
  NodeId id{};
  std::string address{};  // "host:port"
  Bytes public_key{};
};

struct TransportOptions {
  NodeId self{};
  std::string chain_id{};
  std::shared_ptr<const crypto::Suite> suite{};  // the network's suite (from genesis)
  std::string listen_address = "0.0.0.0:7100";  // "host:port"; port 0 picks a free port
  std::vector<PeerInfo> peers{};                 // may include self (ignored)
  TransportLimits limits{};
  uint64_t jitter_seed = 0;  // 0: seed the backoff jitter from the OS
  Logger log{};
};

// Counters since Create. Read with Stats().
struct TransportStats {
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t bytes_sent = 0;             // wire bytes, frames included
  uint64_t bytes_received = 0;
  uint64_t dropped_queue_full = 0;     // Send refused: queue bound
  uint64_t dropped_unknown_peer = 0;   // Send to a node that is not a peer
  uint64_t handshakes_ok = 0;
  uint64_t handshake_failures = 0;     // refused/failed handshakes (both sides)
  uint64_t decrypt_failures = 0;       // sealed frames that did not authenticate
  uint64_t oversize_frames = 0;        // length prefix over the limit
  uint64_t connections_closed = 0;
};

class Transport {
 public:
  // Payload received from an authenticated peer.
  using Handler = std::function<void(NodeId from, Channel ch, Bytes payload)>;
  // A peer's link became authenticated (true) or was lost (false).
  using PeerStateHandler = std::function<void(NodeId peer, bool connected)>;

  // Validates the options, binds the listening socket (so the port is known
  // and a busy port is reported here) and copies `secret_key`. Nothing runs
  // until Start.
  static Result<std::unique_ptr<Transport>> Create(TransportOptions options,
                                                   crypto::SecretKey secret_key);
  ~Transport();  // Stops if running.
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void SetHandler(Handler handler);
  void SetPeerStateHandler(PeerStateHandler handler);

  // Starts the I/O thread: accepts, dials the peers with larger ids.
  void Start();
  // Closes the listener and every connection, discards queued payloads and
  // joins the I/O thread. Idempotent. No handler runs after it returns.
  void Stop();

  // Queues `payload` for `to` on `ch`. False if it was dropped (not a peer,
  // queue full, payload over max_frame_bytes, or stopped).
  bool Send(NodeId to, Bytes payload, Channel ch);

  // Adds or replaces a peer (membership change); replacing closes its link.
  void AddPeer(PeerInfo peer);
  // Removes a peer: closes its link and discards its queues.
  void RemovePeer(NodeId id);

  bool IsConnected(NodeId peer) const;
  // The bound port (useful with port 0).
  uint16_t listen_port() const;
  TransportStats Stats() const;

  class Impl;  // implementation detail (transport.cc)

 private:
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cl::node
