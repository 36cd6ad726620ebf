// A fault-injecting TCP proxy for one peer link of a test cluster.
//
// The peer transport opens exactly one TCP connection per pair of nodes: the
// node with the smaller id dials the larger one (node/transport/transport.h).
// The cluster harness therefore puts one FaultProxy on each pair (i < j):
// node i's config lists node j's address as the proxy's port, and the proxy
// forwards to j's real peer port. "Forward" below is the dialler's direction
// (i → j), "backward" the acceptor's (j → i).
//
// Faults, per direction, changeable at any time from any thread:
//   - drop: bytes read from that side are discarded (a black hole: the TCP
//     connection stays up, nothing arrives). The links are sealed, sequenced
//     streams, so once bytes were dropped the receiver refuses the next frame
//     and closes the connection; while the drop lasts, redials fail their
//     handshake. A one-way drop therefore means: for a while only one side
//     hears the other, then the link is down until healed — the way a one-way
//     partition looks to a protocol with authenticated connections.
//   - delay_ms: every chunk is held for this long before it is written on
//     (order is kept).
// Cut() closes every open connection at once (RST-like): what a restart of a
// middlebox looks like.
//
// Limits: at most 64 MiB buffered per direction of a connection (the proxy
// stops reading from a side while its buffer is full), 64 connections.
//
// Thread-safety: all public methods are thread-safe. One I/O thread per proxy,
// joined by the destructor. Binds 127.0.0.1 only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

namespace cl::cluster_testing {

enum class Direction : uint8_t { kForward = 0, kBackward = 1 };

class FaultProxy {
 public:
  // Listens on a free loopback port and forwards to 127.0.0.1:upstream_port.
  // Aborts the test binary (CL_CHECK) if no port can be bound.
  explicit FaultProxy(uint16_t upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return port_; }

  void SetDrop(Direction d, bool drop);
  void SetDelay(Direction d, uint32_t delay_ms);
  // Drop both directions (a full partition of this link) or none.
  void SetBlocked(bool blocked) {
    SetDrop(Direction::kForward, blocked);
    SetDrop(Direction::kBackward, blocked);
  }
  // No drops, no delays.
  void Heal();
  // Closes every connection now (new ones are accepted as usual).
  void Cut();

  bool dropping(Direction d) const { return drop_[static_cast<int>(d)].load(); }
  uint64_t bytes_forwarded() const { return forwarded_.load(); }
  uint64_t bytes_dropped() const { return dropped_.load(); }
  uint64_t connections() const { return accepted_.load(); }

 private:
  struct Conn;
  void Loop();

  uint16_t upstream_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> drop_[2] = {false, false};
  std::atomic<uint32_t> delay_ms_[2] = {0, 0};
  std::atomic<bool> cut_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> forwarded_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> accepted_{0};
  std::thread thread_;
};

}  // namespace cl::cluster_testing
