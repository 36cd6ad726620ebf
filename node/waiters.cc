#include "node/waiters.h"

namespace cl::node {

Result<uint64_t> TxWaiters::Register(const crypto::Digest& tx_id, Clock::time_point deadline,
                                     Callback cb) {
  std::lock_guard lock(mu_);
  if (count_ >= max_waiters_)
    return ResourceExhausted("too many clients waiting for commits (" +
                             std::to_string(max_waiters_) + ")");
  const uint64_t handle = next_handle_++;
  waiters_[tx_id].push_back(Waiter{handle, deadline, std::move(cb)});
  ++count_;
  return handle;
}

void TxWaiters::Cancel(const crypto::Digest& tx_id, uint64_t handle) {
  std::lock_guard lock(mu_);
  auto it = waiters_.find(tx_id);
  if (it == waiters_.end()) return;
  auto& v = it->second;
  for (auto w = v.begin(); w != v.end(); ++w) {
    if (w->handle != handle) continue;
    v.erase(w);
    --count_;
    break;
  }
  if (v.empty()) waiters_.erase(it);
}

void TxWaiters::Resolve(const crypto::Digest& tx_id, const TxOutcome& outcome) {
  std::vector<Waiter> done;
  {
    std::lock_guard lock(mu_);
    auto it = waiters_.find(tx_id);
    if (it == waiters_.end()) return;
    done = std::move(it->second);
    waiters_.erase(it);
    count_ -= done.size();
  }
  for (auto& w : done) w.cb(outcome);
}

std::vector<crypto::Digest> TxWaiters::Pending() const {
  std::lock_guard lock(mu_);
  std::vector<crypto::Digest> out;
  out.reserve(waiters_.size());
  for (const auto& [id, ws] : waiters_) out.push_back(id);
  return out;
}

void TxWaiters::Sweep(Clock::time_point now, bool shutting_down) {
  std::vector<Waiter> expired;
  {
    std::lock_guard lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      auto& v = it->second;
      for (auto w = v.begin(); w != v.end();) {
        if (shutting_down || w->deadline <= now) {
          expired.push_back(std::move(*w));
          w = v.erase(w);
          --count_;
        } else {
          ++w;
        }
      }
      it = v.empty() ? waiters_.erase(it) : std::next(it);
    }
  }
  for (auto& w : expired)
    w.cb(shutting_down ? Unavailable("node is shutting down")
                       : DeadlineExceeded("not committed before the wait deadline; the "
                                          "transaction may still commit"));
}

size_t TxWaiters::size() const {
  std::lock_guard lock(mu_);
  return count_;
}

uint64_t BlockNotifier::Subscribe(Callback cb) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  subs_.emplace(id, std::move(cb));
  return id;
}

void BlockNotifier::Unsubscribe(uint64_t id) {
  std::lock_guard lock(mu_);
  subs_.erase(id);
}

void BlockNotifier::Publish(Height latest) {
  std::vector<Callback> cbs;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, cb] : subs_) cbs.push_back(cb);
  }
  for (auto& cb : cbs) cb(latest);
}

size_t BlockNotifier::subscribers() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

}  // namespace cl::node
