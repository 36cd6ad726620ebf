// Waiting for transactions to be applied (`?wait=commit`) and for new blocks
// (`/v1/events`, long polls).
//
// TxWaiters: a handler registers a callback for a tx id; the apply path
// resolves it with the receipt when the block holding the tx is durable. The
// caller must check the tx index *after* registering (a block may land in
// between) and call Resolve itself if it is already there. Expired waiters are
// told DEADLINE_EXCEEDED by Sweep(). Bounded: Register refuses beyond
// max_waiters (RESOURCE_EXHAUSTED).
//
// BlockNotifier: subscribers are called with each new height (coalesced: a
// slow subscriber reads the blocks it missed from the store).
//
// Thread-safety: all methods are thread-safe; callbacks run without the lock,
// on the thread that resolved them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "crypto/digest.h"

namespace cl::node {

struct TxOutcome {
  Height height;
  uint32_t position = 0;
  Bytes receipt;  // serialized certledger.v1.Receipt
};

class TxWaiters {
 public:
  using Callback = std::function<void(Result<TxOutcome>)>;
  using Clock = std::chrono::steady_clock;

  explicit TxWaiters(size_t max_waiters = 10'000) : max_waiters_(max_waiters) {}

  // Returns a handle for Cancel; RESOURCE_EXHAUSTED when full.
  Result<uint64_t> Register(const crypto::Digest& tx_id, Clock::time_point deadline, Callback cb);
  // Removes a waiter without calling it (e.g. the client went away).
  void Cancel(const crypto::Digest& tx_id, uint64_t handle);
  // Resolves every waiter of tx_id with `outcome`.
  void Resolve(const crypto::Digest& tx_id, const TxOutcome& outcome);
  // Fails waiters whose deadline passed; `shutting_down` fails all of them.
  void Sweep(Clock::time_point now, bool shutting_down = false);
  size_t size() const;
  // The tx ids somebody waits for (e.g. to look them up after a snapshot
  // install, which applies blocks without announcing each one).
  std::vector<crypto::Digest> Pending() const;

 private:
  struct Waiter {
    uint64_t handle;
    Clock::time_point deadline;
    Callback cb;
  };
  const size_t max_waiters_;
  mutable std::mutex mu_;
  std::map<crypto::Digest, std::vector<Waiter>> waiters_;
  size_t count_ = 0;
  uint64_t next_handle_ = 1;
};

class BlockNotifier {
 public:
  using Callback = std::function<void(Height latest)>;
  uint64_t Subscribe(Callback cb);
  void Unsubscribe(uint64_t id);
  void Publish(Height latest);
  size_t subscribers() const;

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, Callback> subs_;
  uint64_t next_id_ = 1;
};

}  // namespace cl::node
