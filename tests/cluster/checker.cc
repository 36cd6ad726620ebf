#include "tests/cluster/checker.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <thread>

#include "base/bytes.h"
#include "cli/http_client.h"
#include "proto/records.pb.h"

namespace cl::cluster_testing {
namespace {

namespace api = certledger::api;
namespace v1 = certledger::v1;

constexpr size_t kMaxErrors = 20;

struct Errors {
  std::vector<std::string>* out;
  void Add(const std::string& e) const {
    if (out->size() < kMaxErrors) out->push_back(e);
    else if (out->size() == kMaxErrors) out->push_back("... (more errors not listed)");
  }
};

Result<api::BlockView> FetchBlock(const Cluster& c, int node, uint64_t h) {
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = client::HttpRequest(c.Url(node), "GET", "/v1/blocks/" + std::to_string(h), "", "application/json",
                                 {.timeout_ms = 5000, .headers = {{"Accept", "application/x-protobuf"}}});
    if (r.ok() && r->status == 200) {
      api::BlockView b;
      if (!b.ParseFromString(r->body)) return Corruption("block " + std::to_string(h) + " does not parse");
      b.clear_commit_certificate();  // collected per node
      return b;
    }
    last = r.ok() ? Unavailable("HTTP " + std::to_string(r->status) + " " + r->body) : r.status();
  }
  return last;
}

// Waits until every node of `nodes` reports the same height and latest hash
// with an empty mempool; returns that height (or an error naming the states).
Result<uint64_t> Converge(const Cluster& c, const std::vector<int>& nodes, Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string states;
  do {
    states.clear();
    bool agree = true;
    uint64_t height = 0;
    std::string hash;
    for (size_t k = 0; k < nodes.size(); ++k) {
      auto st = c.Status(nodes[k]);
      if (!st.ok()) {
        states += " node " + std::to_string(nodes[k]) + ": " + st.status().ToString();
        agree = false;
        continue;
      }
      states += " node " + std::to_string(nodes[k]) + ": height " + std::to_string(st->height()) + " mempool " +
                std::to_string(st->mempool_txs()) + " role " + st->role() + ";";
      if (k == 0) {
        height = st->height();
        hash = st->latest_hash();
      }
      agree = agree && st->height() == height && st->latest_hash() == hash && st->mempool_txs() == 0;
    }
    if (agree) return height;
    std::this_thread::sleep_for(Ms(100));
  } while (Clock::now() < deadline);
  return DeadlineExceeded("the nodes did not converge:" + states);
}

}  // namespace

std::string CheckResult::Summary() const {
  std::ostringstream s;
  s << "acknowledged=" << acked << " lost=" << lost << " duplicates=" << duplicates << " unknown=" << unknown
    << " (applied " << unknown_applied << ") retries=" << write_retries << " height=" << height
    << " chain_txs=" << chain_txs << " reincluded_as_duplicate=" << reincluded << " reads=" << reads << " (linearizable " << linearizable_reads
    << ", failed " << failed_reads << ") converge_ms=" << converge_ms << " violations=" << errors.size();
  return s.str();
}

CheckResult CheckHistory(const Cluster& c, const History& history, const CheckOptions& o) {
  CheckResult res;
  const Errors err{&res.errors};
  res.failed_reads = history.failed_reads;
  res.write_retries = history.write_attempts_failed;
  for (const WriteOp& w : history.writes) ++(w.outcome == WriteOp::Outcome::kAcked ? res.acked : res.unknown);

  // 1. Convergence.
  const int64_t t0 = NowUs();
  auto converged = Converge(c, o.nodes, o.converge_timeout);
  res.converge_ms = (NowUs() - t0) / 1000;
  if (!converged.ok()) {
    err.Add(converged.status().ToString());
    return res;
  }
  const uint64_t top = *converged;
  res.height = top;

  // 2. Identical chains, linked headers.
  std::vector<api::BlockView> chain(top + 1);
  std::vector<std::string> bytes(top + 1);
  const std::string genesis_hash = c.context().Genesis(false).value()->hash.ToHex();
  for (uint64_t h = 1; h <= top; ++h) {
    auto b = FetchBlock(c, o.nodes[0], h);
    if (!b.ok()) {
      err.Add("node " + std::to_string(o.nodes[0]) + " block " + std::to_string(h) + ": " + b.status().ToString());
      return res;
    }
    chain[h] = std::move(*b);
    bytes[h] = chain[h].SerializeAsString();
    v1::BlockHeader hdr;
    const std::string want_prev = h == 1 ? genesis_hash : chain[h - 1].hash();
    if (!hdr.ParseFromString(chain[h].header_bytes()) || hdr.height() != h ||
        ToHex(hdr.prev_hash()) != want_prev || chain[h].height() != h ||
        static_cast<uint64_t>(chain[h].txs_size()) != hdr.tx_count() ||
        chain[h].tx_ids_size() != chain[h].txs_size() || chain[h].receipts_size() != chain[h].txs_size())
      err.Add("block " + std::to_string(h) + ": header does not link to block " + std::to_string(h - 1) +
              " or does not match its body");
  }
  auto compare = [&](int node, uint64_t upto) {
    for (uint64_t h = 1; h <= upto; ++h) {
      auto b = FetchBlock(c, node, h);
      if (!b.ok()) return err.Add("node " + std::to_string(node) + " block " + std::to_string(h) + ": " +
                                  b.status().ToString());
      if (b->SerializeAsString() != bytes[h])
        return err.Add("node " + std::to_string(node) + " block " + std::to_string(h) + " differs from node " +
                       std::to_string(o.nodes[0]) + "'s");
    }
  };
  for (size_t k = 1; k < o.nodes.size(); ++k) compare(o.nodes[k], top);
  for (int node : o.prefix_nodes) {
    auto st = c.Status(node);
    if (!st.ok()) {
      err.Add("node " + std::to_string(node) + ": " + st.status().ToString());
      continue;
    }
    if (st->height() > top) err.Add("node " + std::to_string(node) + " is past the chain's end");
    else compare(node, st->height());
  }

  // 3. No loss, no duplicates. A transaction proposed again after it was
  // applied (a re-proposal, a mempool handed to a new leader) may be in a
  // later block with a DUPLICATE_TX receipt: recorded, not applied. Applied
  // means any other receipt, and happens at most once, at the first occurrence.
  std::map<std::string, std::vector<uint64_t>> where;  // tx id → heights
  for (uint64_t h = 1; h <= top; ++h)
    for (int k = 0; k < chain[h].tx_ids_size(); ++k) {
      const std::string& id = chain[h].tx_ids(k);
      auto& hs = where[id];
      const bool dup_receipt = k < chain[h].receipts_size() && chain[h].receipts(k).code() == v1::DUPLICATE_TX;
      if (!hs.empty() && !dup_receipt) {
        ++res.duplicates;
        err.Add("tx " + id + " applied twice: at height " + std::to_string(hs.front()) + " and " + std::to_string(h));
      } else if (hs.empty() && dup_receipt) {
        err.Add("tx " + id + " has a DUPLICATE_TX receipt at its first occurrence, height " + std::to_string(h));
      } else if (dup_receipt) {
        ++res.reincluded;
      }
      hs.push_back(h);
      ++res.chain_txs;
    }
  for (const WriteOp& w : history.writes) {
    auto it = where.find(w.tx_id);
    if (w.outcome == WriteOp::Outcome::kUnknown) {
      if (it != where.end()) ++res.unknown_applied;
      continue;
    }
    if (it == where.end()) {
      ++res.lost;
      err.Add("acknowledged tx " + w.tx_id + " (height " + std::to_string(w.height) + " by node " +
              std::to_string(w.node) + ") is not in the chain");
    } else if (it->second.front() != w.height) {
      err.Add("acknowledged tx " + w.tx_id + " at height " + std::to_string(w.height) + " is at height " +
              std::to_string(it->second.front()));
    }
  }

  // 4. Reads. Real-time order: prefix maxima of acknowledged heights and of
  // linearizable read heights, by completion time.
  std::vector<std::pair<int64_t, uint64_t>> done;  // (end_us, height) of acks and linearizable reads
  for (const WriteOp& w : history.writes)
    if (w.outcome == WriteOp::Outcome::kAcked) done.emplace_back(w.end_us, w.height);
  for (const ReadOp& r : history.reads)
    if (r.kind == ReadOp::Kind::kLatestLinearizable) done.emplace_back(r.end_us, r.height);
  std::sort(done.begin(), done.end());
  std::vector<uint64_t> prefix_max(done.size());
  for (size_t k = 0; k < done.size(); ++k) prefix_max[k] = std::max(done[k].second, k ? prefix_max[k - 1] : 0);
  auto max_done_before = [&](int64_t t) -> uint64_t {
    auto it = std::lower_bound(done.begin(), done.end(), std::make_pair(t, uint64_t{0}));
    return it == done.begin() ? 0 : prefix_max[static_cast<size_t>(it - done.begin()) - 1];
  };
  for (const ReadOp& r : history.reads) {
    ++res.reads;
    const std::string who = " read from node " + std::to_string(r.node);
    if (r.kind == ReadOp::Kind::kTxLinearizable) {
      ++res.linearizable_reads;
      auto it = where.find(r.tx_id);
      if (!r.found) err.Add("acknowledged tx " + r.tx_id + " not found by a linearizable" + who);
      else if (it == where.end() || it->second.front() != r.height)
        err.Add("tx " + r.tx_id + " linearizably" + who + " at height " + std::to_string(r.height) +
                " is elsewhere in the final chain");
      continue;
    }
    if (r.height > top || chain[r.height].hash() != r.hash) {
      err.Add("block " + std::to_string(r.height) + " (" + r.hash.substr(0, 16) + ")" + who +
              " is contradicted by the final chain");
      continue;
    }
    if (r.kind == ReadOp::Kind::kLatestLinearizable) {
      ++res.linearizable_reads;
      const uint64_t floor = max_done_before(r.start_us);
      if (r.height < floor)
        err.Add("stale linearizable" + who + ": height " + std::to_string(r.height) + " after height " +
                std::to_string(floor) + " was acknowledged or read");
    }
  }
  return res;
}

}  // namespace cl::cluster_testing
