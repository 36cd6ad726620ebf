#include "node/api.h"

#include <google/protobuf/util/json_util.h>

#include <charconv>

#include "base/thread_name.h"
#include "contracts/executor.h"
#include "contracts/queries.h"
#include "node/api_json.h"
#include "crypto/domain.h"
#include "node/http/proto_body.h"
#include "node/transport/transport.h"
#include "proto/api.pb.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "storage/store.h"

namespace cl::node {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;
using http::Request;
using http::Responder;
using http::Response;

constexpr uint32_t kCertSearchBack = 64;  // blocks searched back for a certified header

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Checks a signed request (docs/openapi.yaml, "Signed requests"): the three
// headers, the timestamp within `skew_ms` of this node's clock, and the
// signature over kReadTag || METHOD "\n" target "\n" timestamp, plus
// "\n" body when `with_body`. Returns the signer's public key.
Result<Bytes> VerifySignedRequest(const http::Request& q, const crypto::Suite& suite, int64_t skew_ms,
                                  bool with_body) {
  const std::string* signer_hex = q.Header("x-certledger-signer");
  const std::string* ts = q.Header("x-certledger-timestamp");
  const std::string* sig_hex = q.Header("x-certledger-signature");
  if (!signer_hex || !ts || !sig_hex)
    return Unauthenticated("a signed request is required (X-Certledger-Signer, -Timestamp, -Signature)");
  auto signer = FromHex(*signer_hex);
  auto sig = FromHex(*sig_hex);
  auto t = ParseU64(*ts);
  if (!signer || !sig || !t) return Unauthenticated("malformed signature headers");
  if (std::llabs(static_cast<long long>(*t) - static_cast<long long>(WallClockMs())) > skew_ms)
    return Unauthenticated("request timestamp too far from the node's clock");
  Bytes msg(crypto::kReadTag);
  msg += q.method + "\n" + q.target + "\n" + *ts;
  if (with_body) msg += "\n" + q.body;
  if (!suite.Verify(*signer, msg, *sig)) return Unauthenticated("request signature does not verify");
  return *signer;
}

Result<crypto::Digest> ParseDigest(std::string_view hex, std::string_view what) {
  auto d = crypto::Digest::FromHex(hex);
  if (!d) return InvalidArgument(std::string(what) + " must be 64 hex characters");
  return *d;
}

Result<Bytes> ParseHexBytes(std::string_view hex, std::string_view what, size_t max = 1024) {
  auto b = FromHex(hex);
  if (!b || b->empty() || b->size() > max) return InvalidArgument(std::string(what) + " must be hex");
  return *b;
}

bool Flag(const Request& r, std::string_view key, std::string_view value = "true") {
  const std::string* v = r.Query(key);
  return v != nullptr && *v == value;
}

contracts::PageRequest PageOf(const Request& r) {
  contracts::PageRequest p;
  if (const std::string* after = r.Query("after")) p.after = FromHex(*after).value_or(Bytes());
  if (const std::string* limit = r.Query("limit"))
    p.limit = static_cast<uint32_t>(std::min<uint64_t>(ParseU64(*limit).value_or(0), contracts::kMaxPageSize));
  return p;
}

std::string RoleName(consensus::StateRole r) {
  switch (r) {
    case consensus::StateRole::kLeader: return "leader";
    case consensus::StateRole::kFollower: return "follower";
    case consensus::StateRole::kCandidate: return "candidate";
    case consensus::StateRole::kPreCandidate: return "pre-candidate";
  }
  return "unknown";
}

// A decoded stored block.
struct LoadedBlock {
  storage::StoredBlock stored;
  v1::Block block;
  v1::BlockHeader header;
};

Result<LoadedBlock> LoadBlock(const storage::Store& store, Height h) {
  LoadedBlock b;
  CL_ASSIGN_OR_RETURN(b.stored, store.blocks().Get(h));
  if (!b.block.ParseFromString(b.stored.block) || !b.header.ParseFromString(b.block.header()))
    return Corruption("block " + std::to_string(h.value()) + " does not decode");
  return b;
}

// The newest block at or above `min_height` that has a commit certificate
// (searching back from the latest), so a proof can be checked against genesis.
Result<LoadedBlock> LatestCertified(const storage::Store& store, Height min_height,
                                    Bytes* cert_out) {
  const Height latest = store.blocks().latest_height();
  for (uint64_t h = latest.value(); h >= std::max<uint64_t>(min_height.value(), 1) &&
                                    h + kCertSearchBack > latest.value();
       --h) {
    auto cert = store.blocks().CommitCert(Height(h));
    if (!cert.ok()) continue;
    *cert_out = *cert;
    return LoadBlock(store, Height(h));
  }
  return Unavailable("no certified block at or after height " + std::to_string(min_height.value()) +
                     " yet; retry in a moment");
}

Status FillInclusion(const storage::Store& store, const storage::TxLocation& loc,
                     api::InclusionProof* out) {
  Bytes cert;
  CL_ASSIGN_OR_RETURN(LoadedBlock anchor, LatestCertified(store, loc.height, &cert));
  const uint64_t size = anchor.header.history_size();
  CL_ASSIGN_OR_RETURN(auto path, store.history().InclusionProof(loc.leaf_index, size));
  out->set_leaf_index(loc.leaf_index);
  out->set_tree_size(size);
  for (const auto& d : path) out->add_path(d.ToHex());
  out->set_height(anchor.stored.height.value());
  out->set_header(anchor.block.header());
  out->set_commit_certificate(cert);
  return Status::Ok();
}

Result<api::TxView> TxViewOf(const storage::Store& store, const crypto::Digest& id, bool proof) {
  CL_ASSIGN_OR_RETURN(storage::TxLocation loc, store.blocks().FindTx(id));
  CL_ASSIGN_OR_RETURN(LoadedBlock b, LoadBlock(store, loc.height));
  if (static_cast<int>(loc.position) >= b.block.txs_size())
    return Corruption("tx index points past the block");
  api::TxView v;
  v.set_tx_id(id.ToHex());
  v.set_height(loc.height.value());
  v.set_position(loc.position);
  v.set_leaf_index(loc.leaf_index);
  if (v.mutable_tx()->ParseFromString(b.block.txs(static_cast<int>(loc.position))))
    (void)v.mutable_body()->ParseFromString(v.tx().body());
  CL_ASSIGN_OR_RETURN(Bytes receipt, store.blocks().Receipt(loc.height, loc.position));
  (void)v.mutable_receipt()->ParseFromString(receipt);
  if (proof) CL_RETURN_IF_ERROR(FillInclusion(store, loc, v.mutable_proof()));
  return v;
}

std::string CertStatusName(const v1::CertificateRecord& rec, int64_t time_ms) {
  switch (rec.status()) {
    case v1::REVOKED: return "REVOKED";
    case v1::SUSPENDED: return "SUSPENDED";
    case v1::SUPERSEDED: return "SUPERSEDED";
    default: break;
  }
  const auto& a = rec.anchor();
  if (a.valid_until_ms() != 0 && time_ms > a.valid_until_ms()) return "EXPIRED";
  if (time_ms < a.valid_from_ms()) return "NOT_YET_VALID";
  return "VALID";
}

Response JsonOf(const Request& r, const google::protobuf::Message& m, int status = 200) {
  return http::ProtoResponse(r, m, status);
}

}  // namespace

struct Api::Stream {
  std::shared_ptr<http::StreamWriter> writer;
  Height next;
};

Api::Api(Node& node, MetricsRegistry& metrics, ApiOptions options)
    : node_(node), metrics_(metrics), options_(std::move(options)) {
  notifier_sub_ = node_.blocks_notifier().Subscribe([this](Height) {
    {
      std::lock_guard lock(mu_);
      wake_ = true;
    }
    cv_.notify_one();
  });
  pump_ = std::thread([this] {
    NameThisThread("cl-events");
    PumpLoop();
  });
}

Api::~Api() { Shutdown(); }

void Api::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  node_.blocks_notifier().Unsubscribe(notifier_sub_);
  cv_.notify_all();
  if (pump_.joinable()) pump_.join();
  std::lock_guard lock(mu_);
  for (auto& [id, s] : streams_) s->writer->Close();
  streams_.clear();
}

// Sends every stream the blocks it has not seen, a bounded number per round,
// so one slow or far-behind client never holds up the others.
void Api::PumpLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stop_ || wake_; });
    wake_ = false;
    auto streams = streams_;
    lock.unlock();
    const storage::Store& store = node_.ledger().store();
    const Height latest = store.blocks().latest_height();
    std::vector<uint64_t> finished;
    bool more = false;
    for (auto& [id, s] : streams) {
      uint32_t sent = 0;
      while (s->next <= latest && sent < options_.max_blocks_per_event_round && !s->writer->closed()) {
        auto b = LoadBlock(store, s->next);
        if (!b.ok()) break;
        api::BlockEvent ev;
        ev.set_height(s->next.value());
        ev.set_hash(b->stored.hash.ToHex());
        ev.set_time_ms(b->header.time_ms());
        for (int i = 0; i < b->block.txs_size(); ++i) {
          v1::SignedTx tx;
          if (tx.ParseFromString(b->block.txs(i))) ev.add_tx_ids(node_.ledger().suite().Hash(tx.body()).ToHex());
          (void)ev.add_receipts()->ParseFromString(b->block.receipts(i));
        }
        std::string json;
        google::protobuf::util::JsonPrintOptions jo;
        (void)google::protobuf::util::MessageToJsonString(ev, &json, jo);
        if (!s->writer->Write("id: " + std::to_string(s->next.value()) + "\nevent: block\ndata: " + json + "\n\n"))
          break;
        ++s->next;
        ++sent;
      }
      if (s->writer->closed()) finished.push_back(id);
      if (s->next <= latest) more = true;
    }
    lock.lock();
    for (uint64_t id : finished) streams_.erase(id);
    if (more) wake_ = true;
  }
}

void Api::UpdateGauges() {
  const DriverStatus st = node_.driver().status();
  metrics_.GetGauge("certledger_raft_term", "Current raft term").Set(static_cast<double>(st.term.value()));
  metrics_.GetGauge("certledger_raft_is_leader", "1 if this node leads").Set(st.role == consensus::StateRole::kLeader ? 1 : 0);
  metrics_.GetGauge("certledger_raft_leader", "Node id of the known leader (0 = none)").Set(static_cast<double>(st.leader.value()));
  metrics_.GetGauge("certledger_raft_commit_index", "Raft commit index").Set(static_cast<double>(st.commit.value()));
  metrics_.GetGauge("certledger_raft_applied_index", "Raft applied index").Set(static_cast<double>(st.applied.value()));
  metrics_.GetGauge("certledger_block_height", "Latest applied block height").Set(static_cast<double>(st.height.value()));
  metrics_.GetGauge("certledger_mempool_txs", "Transactions in the mempool").Set(static_cast<double>(node_.mempool().size()));
  metrics_.GetGauge("certledger_mempool_bytes", "Bytes in the mempool").Set(static_cast<double>(node_.mempool().bytes()));
  metrics_.GetGauge("certledger_batches_proposed", "Batches proposed by this node as leader").Set(static_cast<double>(st.batches_proposed));
  metrics_.GetGauge("certledger_txs_proposed", "Transactions proposed by this node as leader").Set(static_cast<double>(st.txs_proposed));
  metrics_.GetGauge("certledger_waiters", "Clients waiting for a commit").Set(static_cast<double>(node_.waiters().size()));
  metrics_.GetGauge("certledger_raft_first_log_index", "First raft log index kept (entries before it are compacted)")
      .Set(static_cast<double>(st.first_log_index.value()));
  metrics_.GetGauge("certledger_raft_snapshot_index", "Raft index of the newest snapshot checkpoint")
      .Set(static_cast<double>(st.snapshot_index.value()));
  metrics_.GetGauge("certledger_snapshots_installed", "Snapshots installed from the leader")
      .Set(static_cast<double>(st.snapshots_installed));
  const storage::Store::StateCacheStats sc = node_.ledger().store().state_cache_stats();
  metrics_.GetGauge("certledger_state_cache_hits", "State reads answered by the state cache").Set(static_cast<double>(sc.hits));
  metrics_.GetGauge("certledger_state_cache_misses", "State reads that went to the database").Set(static_cast<double>(sc.misses));
  metrics_.GetGauge("certledger_state_cache_entries", "Entries in the state cache").Set(static_cast<double>(sc.entries));
  metrics_.GetGauge("certledger_state_cache_bytes", "Accounted bytes in the state cache ([ledger] state_cache_bytes bounds it)")
      .Set(static_cast<double>(sc.bytes));
  const SnapshotStats ss = node_.snapshot_stats();
  metrics_.GetGauge("certledger_snapshot_streams_sent", "Snapshot streams sent to peers").Set(static_cast<double>(ss.streams_sent));
  metrics_.GetGauge("certledger_snapshot_streams_failed", "Snapshot streams that failed to send").Set(static_cast<double>(ss.streams_failed));
  metrics_.GetGauge("certledger_snapshot_bytes_sent", "Snapshot bytes sent to peers").Set(static_cast<double>(ss.bytes_sent));
  metrics_.GetGauge("certledger_snapshot_streams_broken", "Snapshot streams dropped on receipt").Set(static_cast<double>(ss.streams_broken));
  const TransportStats ts = node_.transport_stats();
  const std::pair<const char*, uint64_t> peer[] = {
      {"frames_sent", ts.frames_sent},
      {"frames_received", ts.frames_received},
      {"bytes_sent", ts.bytes_sent},
      {"bytes_received", ts.bytes_received},
      {"dropped_queue_full", ts.dropped_queue_full},
      {"dropped_unknown_peer", ts.dropped_unknown_peer},
      {"handshakes_ok", ts.handshakes_ok},
      {"handshake_failures", ts.handshake_failures},
      {"decrypt_failures", ts.decrypt_failures},
      {"oversize_frames", ts.oversize_frames},
      {"connections_closed", ts.connections_closed},
  };
  for (const auto& [what, v] : peer)
    metrics_.GetGauge("certledger_peer_events", "Peer transport counters since start, by event", {{"event", what}})
        .Set(static_cast<double>(v));
}

std::vector<std::pair<std::string, std::string>> Api::Routes() {
  return {
      {"POST", "/v1/transactions"},
      {"GET", "/v1/transactions/{id}"},
      {"GET", "/v1/blocks/{height}"},
      {"GET", "/v1/proofs/consistency"},
      {"GET", "/v1/certificates/{doc_hash}"},
      {"GET", "/v1/certificates/id/{cert_id}"},
      {"GET", "/v1/authorizations/{id}"},
      {"GET", "/v1/services"},
      {"GET", "/v1/services/{code}"},
      {"GET", "/v1/proof-requests/{id}"},
      {"GET", "/v1/holders/{ref}/access-log"},
      {"GET", "/v1/holders/{ref}/authorizations"},
      {"GET", "/v1/holders/{ref}/certificates"},
      {"GET", "/v1/events"},
      {"GET", "/v1/status"},
      {"GET", "/v1/genesis"},
      {"POST", "/v1/admin/membership"},
      {"GET", "/healthz"},
      {"GET", "/readyz"},
      {"GET", "/metrics"},
  };
}

void Api::Register(http::Router& router) {
  Node& node = node_;
  const ApiOptions& opt = options_;
  const storage::Store& store = node.ledger().store();
  const crypto::Suite& suite = node.ledger().suite();

  // Runs `read` now, or after a ReadIndex round when the client asked for a
  // linearizable read (the answer then comes from the raft thread).
  auto serve_read = [&node, &opt](Request req, Responder rsp,
                                  std::function<Response(const Request&)> read) {
    if (!Flag(req, "consistency", "linearizable")) return rsp.Respond(read(req));
    auto shared = std::make_shared<std::pair<Request, Responder>>(std::move(req), std::move(rsp));
    node.driver().ReadIndex(opt.read_index_timeout_ms, [shared, read](Result<RaftIndex> idx) {
      if (!idx.ok()) return shared->second.Error(idx.status());
      shared->second.Respond(read(shared->first));
    });
  };

  // ---- transactions
  router.Handle("POST", "/v1/transactions", [&node, &opt, &suite](Request req, Responder rsp) {
    v1::SignedTx tx;
    if (auto err = http::ParseBody(req, &tx)) return rsp.Respond(std::move(*err));
    std::optional<std::chrono::steady_clock::time_point> wait;
    if (Flag(req, "wait", "commit")) {
      uint64_t ms = opt.default_wait_ms;
      if (const std::string* t = req.Query("timeout_ms")) {
        auto v = ParseU64(*t);
        if (!v) return rsp.Error(InvalidArgument("timeout_ms must be a number of milliseconds"));
        ms = std::min<uint64_t>(*v, opt.max_wait_ms);
      }
      wait = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    } else if (const std::string* w = req.Query("wait"); w != nullptr) {
      return rsp.Error(InvalidArgument("wait must be 'commit'"));
    }
    (void)suite;
    auto shared = std::make_shared<std::pair<Request, Responder>>(std::move(req), std::move(rsp));
    node.Submit(tx.SerializeAsString(), wait,
                [shared](Result<SubmitResult> r, std::optional<RejectReason> why) {
                  auto& [q, out] = *shared;
                  if (!r.ok()) {
                    Response e = http::ErrorResponse(r.status());
                    if (why == RejectReason::kMempoolFull) e.headers.emplace_back("Retry-After", "1");
                    if (why) {
                      // A stable, more precise reason beside the generic code.
                      e.body.insert(e.body.size() - 1, ",\"reason\":" + http::JsonQuote(RejectReasonName(*why)));
                    }
                    return out.Respond(std::move(e));
                  }
                  api::SubmitTxResponse resp;
                  resp.set_tx_id(r->tx_id.ToHex());
                  resp.set_forwarded(r->forwarded);
                  if (r->outcome) {
                    resp.set_status("committed");
                    resp.set_height(r->outcome->height.value());
                    (void)resp.mutable_receipt()->ParseFromString(r->outcome->receipt);
                    return out.Respond(JsonOf(q, resp, 200));
                  }
                  resp.set_status("accepted");
                  out.Respond(JsonOf(q, resp, 202));
                });
  });

  router.Handle("GET", "/v1/transactions/{id}", [&store, serve_read](Request req, Responder rsp) {
    serve_read(std::move(req), std::move(rsp), [&store](const Request& q) {
      auto id = ParseDigest(q.Param("id"), "transaction id");
      if (!id.ok()) return http::ErrorResponse(id.status());
      auto v = TxViewOf(store, *id, Flag(q, "proof"));
      if (!v.ok()) return http::ErrorResponse(v.status());
      return JsonOf(q, *v);
    });
  });

  // ---- blocks and proofs
  router.Handle("GET", "/v1/blocks/{height}", [&store, &suite, serve_read](Request req, Responder rsp) {
    serve_read(std::move(req), std::move(rsp), [&store, &suite](const Request& q) {
      const std::string& hp = q.Param("height");
      Height h = store.blocks().latest_height();
      if (hp != "latest") {
        auto v = ParseU64(hp);
        if (!v || *v == 0) return http::ErrorResponse(InvalidArgument("height must be a positive number or 'latest'"));
        h = Height(*v);
      }
      if (h == Height(0)) return http::ErrorResponse(NotFound("no block applied yet"));
      auto b = LoadBlock(store, h);
      if (!b.ok()) return http::ErrorResponse(b.status());
      api::BlockView v;
      v.set_height(h.value());
      v.set_hash(b->stored.hash.ToHex());
      *v.mutable_header() = b->header;
      v.set_header_bytes(b->block.header());
      for (int i = 0; i < b->block.txs_size(); ++i) {
        v1::SignedTx* tx = v.add_txs();
        if (tx->ParseFromString(b->block.txs(i))) v.add_tx_ids(suite.Hash(tx->body()).ToHex());
        (void)v.add_receipts()->ParseFromString(b->block.receipts(i));
      }
      if (auto cert = store.blocks().CommitCert(h); cert.ok())
        (void)v.mutable_commit_certificate()->ParseFromString(*cert);
      return JsonOf(q, v);
    });
  });

  router.Handle("GET", "/v1/proofs/consistency", [&store](Request q, Responder rsp) {
    const std::string* from_s = q.Query("from");
    const std::string* to_s = q.Query("to");
    const uint64_t from = from_s ? ParseU64(*from_s).value_or(0) : 0;
    const uint64_t to = to_s ? ParseU64(*to_s).value_or(0) : store.blocks().latest_height().value();
    if (from == 0 || from > to)
      return rsp.Error(InvalidArgument("need 1 <= from <= to (heights); to defaults to the latest"));
    auto a = LoadBlock(store, Height(from));
    auto b = LoadBlock(store, Height(to));
    if (!a.ok()) return rsp.Error(a.status());
    if (!b.ok()) return rsp.Error(b.status());
    auto path = store.history().ConsistencyProof(a->header.history_size(), b->header.history_size());
    if (!path.ok()) return rsp.Error(path.status());
    api::ConsistencyProofView v;
    v.set_from_height(from);
    v.set_to_height(to);
    v.set_from_size(a->header.history_size());
    v.set_to_size(b->header.history_size());
    v.set_from_root(ToHex(a->header.history_root()));
    v.set_to_root(ToHex(b->header.history_root()));
    for (const auto& d : *path) v.add_path(d.ToHex());
    rsp.Respond(JsonOf(q, v));
  });

  // ---- certificates
  // The status of a certificate is judged at the newest block's time: one
  // block load per new height, not per lookup (lookups are the hot read).
  struct LatestTime {
    std::mutex mu;
    Height height;
    int64_t time_ms = 0;
  };
  auto latest_time = std::make_shared<LatestTime>();
  auto cert_view = [&store, latest_time](const Request& q, v1::CertificateRecord rec) {
    api::CertificateView v;
    if (rec.history_size() > 0) v.set_anchor_tx_id(ToHex(rec.history(0).tx_id()));
    const Height h = store.blocks().latest_height();
    int64_t now = 0;
    {
      std::lock_guard lock(latest_time->mu);
      if (latest_time->height == h && h > Height(0)) now = latest_time->time_ms;
    }
    if (now == 0) {
      if (auto b = LoadBlock(store, h); b.ok()) {
        now = b->header.time_ms();
        std::lock_guard lock(latest_time->mu);
        if (h > latest_time->height) {
          latest_time->height = h;
          latest_time->time_ms = now;
        }
      }
    }
    v.set_status(CertStatusName(rec, now));
    v.set_checked_height(h.value());
    v.set_checked_time_ms(now);
    if (Flag(q, "proof")) {
      for (int i = 0; i < rec.history_size(); ++i) {
        auto id = crypto::Digest::FromBytes(rec.history(i).tx_id());
        if (!id) return http::ErrorResponse(Corruption("certificate history has a bad tx id"));
        auto tv = TxViewOf(store, *id, true);
        if (!tv.ok()) return http::ErrorResponse(tv.status());
        if (i == 0) *v.mutable_proof() = tv->proof();
        *v.add_history_txs() = std::move(*tv);
      }
    }
    *v.mutable_record() = std::move(rec);
    // The hot read: rendered by hand, byte for byte what the converter prints
    // (node/api_json.h); the converter only for ?proof=true and odd strings.
    if (!http::WantsProtobuf(q)) {
      if (auto json = CertificateViewJson(v)) return Response::Json(200, std::move(*json));
    }
    return JsonOf(q, v);
  };
  router.Handle("GET", "/v1/certificates/{doc_hash}", [&store, cert_view, serve_read](Request req, Responder rsp) {
    serve_read(std::move(req), std::move(rsp), [&store, cert_view](const Request& q) {
      auto doc = ParseHexBytes(q.Param("doc_hash"), "doc_hash", 64);
      if (!doc.ok()) return http::ErrorResponse(doc.status());
      auto rec = contracts::FindCertificateByDocHash(store.state(), *doc);
      if (!rec.ok()) return http::ErrorResponse(rec.status());
      if (!*rec) return http::ErrorResponse(NotFound("no certificate with this document hash"));
      return cert_view(q, std::move(**rec));
    });
  });
  router.Handle("GET", "/v1/certificates/id/{cert_id}", [&store, cert_view, serve_read](Request req, Responder rsp) {
    serve_read(std::move(req), std::move(rsp), [&store, cert_view](const Request& q) {
      auto rec = contracts::GetCertificate(store.state(), q.Param("cert_id"));
      if (!rec.ok()) return http::ErrorResponse(rec.status());
      if (!*rec) return http::ErrorResponse(NotFound("no certificate " + q.Param("cert_id")));
      return cert_view(q, std::move(**rec));
    });
  });

  // ---- authorizations, services, verdicts
  router.Handle("GET", "/v1/authorizations/{id}", [&store](Request q, Responder rsp) {
    auto rec = contracts::GetAuthorization(store.state(), q.Param("id"));
    if (!rec.ok()) return rsp.Error(rec.status());
    if (!*rec) return rsp.Error(NotFound("no authorization " + q.Param("id")));
    rsp.Respond(JsonOf(q, **rec));
  });
  router.Handle("GET", "/v1/services", [&store](Request q, Responder rsp) {
    auto page = contracts::ListServices(store.state(), PageOf(q));
    if (!page.ok()) return rsp.Error(page.status());
    api::ServiceList v;
    for (auto& s : page->items) *v.add_items() = std::move(s);
    v.set_next(ToHex(page->next));
    rsp.Respond(JsonOf(q, v));
  });
  router.Handle("GET", "/v1/services/{code}", [&store](Request q, Responder rsp) {
    uint32_t version = 0;
    if (const std::string* ver = q.Query("version")) {
      auto v = ParseU64(*ver);
      if (!v || *v > UINT32_MAX) return rsp.Error(InvalidArgument("version must be a number"));
      version = static_cast<uint32_t>(*v);
    }
    auto s = contracts::GetService(store.state(), q.Param("code"), version);
    if (!s.ok()) return rsp.Error(s.status());
    if (!*s) return rsp.Error(NotFound("no service " + q.Param("code")));
    rsp.Respond(JsonOf(q, **s));
  });
  router.Handle("GET", "/v1/proof-requests/{id}", [&store, serve_read](Request req, Responder rsp) {
    serve_read(std::move(req), std::move(rsp), [&store](const Request& q) {
      auto v = contracts::GetVerdict(store.state(), q.Param("id"));
      if (!v.ok()) return http::ErrorResponse(v.status());
      if (!*v) return http::ErrorResponse(NotFound("no proof request " + q.Param("id")));
      return JsonOf(q, **v);
    });
  });

  // ---- holders: signed requests only
  auto authorize_holder_read = [&store, &suite, &opt](const Request& q, Bytes* ref_out) -> Status {
    CL_ASSIGN_OR_RETURN(Bytes ref, ParseHexBytes(q.Param("ref"), "holder ref", 64));
    CL_ASSIGN_OR_RETURN(const Bytes signer_key, VerifySignedRequest(q, suite, opt.signed_read_skew_ms, false));
    const Bytes* signer = &signer_key;
    const contracts::StateView& st = store.state();
    CL_ASSIGN_OR_RETURN(auto holder, contracts::GetHolder(st, ref));
    if (holder && holder->public_key() == *signer) return (*ref_out = ref, Status::Ok());
    CL_ASSIGN_OR_RETURN(auto agent, contracts::GetAgent(st, ref, *signer));
    if (agent && agent->revoked_height() == 0) return (*ref_out = ref, Status::Ok());
    CL_ASSIGN_OR_RETURN(auto member, contracts::GetMember(st, *signer));
    if (member && member->revoked_height() == 0) {
      contracts::PageRequest page{.after = {}, .limit = contracts::kMaxPageSize};
      for (int pages = 0; pages < 20; ++pages) {
        CL_ASSIGN_OR_RETURN(auto grants, contracts::ListAuthorizations(st, ref, page));
        for (const auto& g : grants.items)
          if (g.status() == v1::ACTIVE && g.grant().grantee() == member->department())
            return (*ref_out = ref, Status::Ok());
        if (grants.next.empty()) break;
        page.after = grants.next;
      }
    }
    return PermissionDenied("only the holder, the holder's agent or a department the holder "
                            "authorized may read this");
  };
  router.Handle("GET", "/v1/holders/{ref}/access-log", [&store, authorize_holder_read](Request q, Responder rsp) {
    Bytes ref;
    if (Status s = authorize_holder_read(q, &ref); !s.ok()) return rsp.Error(s);
    auto page = contracts::AccessLog(store.state(), ref, PageOf(q));
    if (!page.ok()) return rsp.Error(page.status());
    api::AccessLog v;
    for (auto& e : page->items) *v.add_items() = std::move(e);
    v.set_next(ToHex(page->next));
    rsp.Respond(JsonOf(q, v));
  });
  router.Handle("GET", "/v1/holders/{ref}/authorizations", [&store, authorize_holder_read](Request q, Responder rsp) {
    Bytes ref;
    if (Status s = authorize_holder_read(q, &ref); !s.ok()) return rsp.Error(s);
    auto page = contracts::ListAuthorizations(store.state(), ref, PageOf(q));
    if (!page.ok()) return rsp.Error(page.status());
    api::AuthorizationList v;
    for (auto& e : page->items) *v.add_items() = std::move(e);
    v.set_next(ToHex(page->next));
    rsp.Respond(JsonOf(q, v));
  });
  router.Handle("GET", "/v1/holders/{ref}/certificates", [&store, authorize_holder_read](Request q, Responder rsp) {
    Bytes ref;
    if (Status s = authorize_holder_read(q, &ref); !s.ok()) return rsp.Error(s);
    auto page = contracts::ListHolderCertificates(store.state(), ref, PageOf(q));
    if (!page.ok()) return rsp.Error(page.status());
    api::CertificateList v;
    for (auto& e : page->items) *v.add_items() = std::move(e);
    v.set_next(ToHex(page->next));
    rsp.Respond(JsonOf(q, v));
  });

  // ---- events
  router.Handle("GET", "/v1/events", [this, &store](Request q, Responder rsp) {
    Height from = store.blocks().latest_height().next();
    if (const std::string* f = q.Query("from")) {
      auto v = ParseU64(*f);
      if (!v || *v == 0) return rsp.Error(InvalidArgument("from must be a positive height"));
      from = Height(*v);
    } else if (const std::string* last = q.Header("last-event-id")) {
      if (auto v = ParseU64(*last)) from = Height(*v + 1);  // resume after the last event seen
    }
    std::lock_guard lock(mu_);
    if (stop_) return rsp.Error(Unavailable("shutting down"));
    if (streams_.size() >= options_.max_event_streams)
      return rsp.Error(ResourceExhausted("too many event streams"));
    auto s = std::make_shared<Stream>();
    s->writer = rsp.StartStream(200, "text/event-stream");
    s->next = from;
    streams_.emplace(next_stream_++, s);
    wake_ = true;
    cv_.notify_one();
  });

  // ---- status and operations
  router.Handle("GET", "/v1/status", [&node, &store, &opt](Request q, Responder rsp) {
    const DriverStatus st = node.driver().status();
    api::NodeStatus v;
    v.set_node_id(node.id().value());
    v.set_chain_id(node.ledger().chain_id());
    v.set_suite(std::string(node.ledger().suite().name()));
    v.set_genesis_hash(node.ledger().genesis_hash().ToHex());
    v.set_role(RoleName(st.role));
    v.set_leader(st.leader.value());
    v.set_term(st.term.value());
    v.set_commit_index(st.commit.value());
    v.set_applied_index(node.ledger().applied_index().value());
    v.set_height(store.blocks().latest_height().value());
    v.set_latest_hash(store.blocks().latest_hash().ToHex());
    v.set_history_size(store.history().size());
    for (uint64_t id : st.voters) v.add_voters(id);
    for (uint64_t id : st.learners) v.add_learners(id);
    v.set_mempool_txs(node.mempool().size());
    v.set_version(opt.version);
    if (!st.failure.ok()) v.set_failure(st.failure.ToString());
    rsp.Respond(JsonOf(q, v));
  });
  router.Handle("GET", "/v1/genesis", [&store](Request, Responder rsp) {
    auto g = store.blocks().Genesis();
    if (!g.ok()) return rsp.Error(g.status());
    rsp.Respond(Response{200, "application/json", g->bytes, {}});
  });
  router.Handle("GET", "/healthz", [](Request, Responder rsp) {
    rsp.Respond(Response::Json(200, "{\"status\":\"ok\"}"));
  });
  router.Handle("GET", "/readyz", [&node](Request, Responder rsp) {
    const DriverStatus st = node.driver().status();
    if (!st.failure.ok()) return rsp.Error(Unavailable("stopped accepting writes: " + st.failure.ToString()));
    if (st.leader == NodeId()) return rsp.Error(Unavailable("no known leader"));
    rsp.Respond(Response::Json(200, "{\"status\":\"ready\",\"leader\":" + std::to_string(st.leader.value()) + "}"));
  });
  router.Handle("GET", "/metrics", [this](Request, Responder rsp) {
    UpdateGauges();
    rsp.Respond(Response{200, "text/plain; version=0.0.4", metrics_.RenderPrometheus(), {}});
  });

  // ---- membership (operators): a signed request by an OPERATOR or ADMIN member.
  router.Handle("POST", "/v1/admin/membership", [&node, &store, &suite, &opt](Request q, Responder rsp) {
    auto signer = VerifySignedRequest(q, suite, opt.signed_read_skew_ms, /*with_body=*/true);
    if (!signer.ok()) return rsp.Error(signer.status());
    auto member = contracts::GetMember(store.state(), *signer);
    if (!member.ok()) return rsp.Error(member.status());
    bool allowed = false;
    if (*member && (*member)->revoked_height() == 0)
      for (int r : (*member)->roles()) allowed = allowed || r == v1::OPERATOR || r == v1::ADMIN;
    if (!allowed) return rsp.Error(PermissionDenied("membership changes need an OPERATOR or ADMIN key"));
    api::MembershipRequest mr;
    if (auto err = http::ParseBody(q, &mr)) return rsp.Respond(std::move(*err));
    if (mr.node_id() == 0) return rsp.Error(InvalidArgument("node_id is required"));
    // Membership changes are the leader's to propose: a follower says who
    // leads and where its API is (headers X-Certledger-Leader and
    // X-Certledger-Leader-Address), so a client can send the request there.
    const DriverStatus st = node.driver().status();
    if (st.role != consensus::StateRole::kLeader) {
      if (st.leader == NodeId()) return rsp.Error(Unavailable("no leader at the moment; retry shortly"));
      const std::string addr = node.http_address_of(st.leader);
      http::Response r = http::ErrorResponse(
          FailedPrecondition("NOT_LEADER: node " + std::to_string(st.leader.value()) +
                             " leads; send membership changes to it" +
                             (addr.empty() ? std::string() : " at " + addr)),
          421);
      r.headers.emplace_back("X-Certledger-Leader", std::to_string(st.leader.value()));
      if (!addr.empty()) r.headers.emplace_back("X-Certledger-Leader-Address", addr);
      return rsp.Respond(std::move(r));
    }
    auto shared = std::make_shared<Responder>(std::move(rsp));
    auto done = [shared](Status s) {
      if (!s.ok()) return shared->Error(s);
      shared->Respond(Response::Json(200, "{\"status\":\"done\"}"));
    };
    if (mr.action() == "transfer_leader") return node.driver().TransferLeader(NodeId(mr.node_id()), 10'000, done);
    certledger::raft::ConfChange cc;
    auto* ch = cc.add_changes();
    ch->set_node_id(mr.node_id());
    if (mr.action() == "add_learner") ch->set_type(certledger::raft::CONF_ADD_LEARNER);
    else if (mr.action() == "promote") ch->set_type(certledger::raft::CONF_ADD_NODE);
    else if (mr.action() == "remove") ch->set_type(certledger::raft::CONF_REMOVE_NODE);
    else return shared->Error(InvalidArgument("action must be add_learner, promote, remove or transfer_leader"));
    node.driver().ChangeMembership(std::move(cc), 10'000, done);
  });
}

}  // namespace cl::node
