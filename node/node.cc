#include "node/node.h"

#include "base/thread_name.h"
#include "contracts/executor.h"
#include "node/transport/transport.h"
#include "proto/raft.pb.h"
#include "proto/records.pb.h"
#include "contracts/keys.h"
#include "storage/snapshot.h"
#include "storage/store.h"

#include <filesystem>

namespace cl::node {

namespace v1 = certledger::v1;
namespace raftpb = certledger::raft;

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Node::~Node() { Stop(); }

Result<std::unique_ptr<Node>> Node::Create(NodeSetup setup) {
  if (!setup.genesis) return InvalidArgument("no genesis");
  std::unique_ptr<Node> n(new Node());
  n->id_ = setup.id;
  n->log_ = setup.log.With({{"node", setup.id}});
  n->genesis_ = setup.genesis;
  n->node_key_ = std::move(setup.node_key);
  const v1::Genesis& g = *n->genesis_;

  // Voters and peers from genesis.
  const v1::NodeInfo* self = nullptr;
  std::vector<PeerInfo> peers;
  for (const v1::NodeInfo& ni : g.nodes()) {
    if (ni.role() == v1::NodeInfo::VOTER) {
      n->voters_.push_back({NodeId(ni.node_id()), ni.public_key()});
    }
    n->http_addresses_[NodeId(ni.node_id())] = ni.http_address();
    if (ni.node_id() == setup.id.value()) {
      self = &ni;
      continue;
    }
    PeerInfo p{NodeId(ni.node_id()), ni.peer_address(), ni.public_key()};
    for (const auto& [id, addr] : setup.peer_addresses)
      if (id == p.id) p.address = addr;
    n->known_peers_[p.id] = {p.public_key, p.address};
    peers.push_back(std::move(p));
  }

  // The store lives in <data_dir>/ledger; snapshot checkpoints in
  // <data_dir>/snapshots; a snapshot being received in <data_dir>/ledger.staging.
  std::error_code ec;
  std::filesystem::create_directories(setup.data_dir, ec);
  if (ec) return IoError("create data directory " + setup.data_dir + ": " + ec.message());
  setup.ledger.data_dir = setup.data_dir + "/ledger";
  CL_ASSIGN_OR_RETURN(n->ledger_, Ledger::Open(g, setup.genesis_bytes, setup.ledger));
  const crypto::Suite& suite = n->ledger_->suite();
  CL_ASSIGN_OR_RETURN(Bytes pub, suite.PublicKeyOf(n->node_key_));
  if (self == nullptr) {
    // A node added after genesis: its key is registered on chain by
    // governance (NodeInfo) and raft adds it as a learner. Until then it only
    // listens. If the chain it holds already knows it, the key must match.
    auto reg = n->ledger_->store().state().Get(contracts::keys::Node(setup.id.value()));
    if (reg.ok() && reg->has_value()) {
      v1::NodeInfo ni;
      if (ni.ParseFromString(**reg) && ni.public_key() != pub)
        return PermissionDenied("the node key does not match node " +
                                std::to_string(setup.id.value()) + "'s registered public key");
    }
    n->log_.Warn("node_joining", {{"reason", "node id is not in the genesis: it takes part once "
                                             "registered by governance and added by an operator"}});
  } else if (pub != self->public_key()) {
    return PermissionDenied("the node key does not match node " + std::to_string(setup.id.value()) +
                            "'s public key in the genesis");
  }

  n->admission_ = AdmissionParams{.chain_id = g.chain_id(),
                                  .max_tx_bytes = n->ledger_->executor().params().max_tx_bytes(),
                                  .max_tx_validity_ms =
                                      n->ledger_->executor().params().max_tx_validity_ms()};
  const storage::Store& store = n->ledger_->store();
  n->mempool_ = std::make_unique<Mempool>(setup.mempool, [&store](const crypto::Digest& id) {
    return store.blocks().FindTx(id).ok();
  });
  n->waiters_ = std::make_unique<TxWaiters>(setup.max_waiters);

  Node* raw = n.get();
  CL_ASSIGN_OR_RETURN(
      n->transport_,
      Transport::Create(TransportOptions{.self = setup.id,
                                         .chain_id = g.chain_id(),
                                         .suite = n->ledger_->suite_ptr(),
                                         .listen_address = setup.peer_listen,
                                         .peers = peers,
                                         .log = setup.log},  // the transport adds node=
                        crypto::SecretKey(Bytes(n->node_key_.bytes()))));
  n->transport_->SetHandler([raw](NodeId from, Channel ch, Bytes payload) {
    raw->OnPeerPayload(from, static_cast<uint8_t>(ch), std::move(payload));
  });
  n->transport_->SetPeerStateHandler([raw](NodeId peer, bool connected) {
    if (!connected && raw->driver_) raw->driver_->ReportUnreachable(peer);
  });

  n->certs_ = std::make_unique<CommitCertCollector>(
      CommitCertCollector::Options{.self = setup.id, .voters = n->voters_},
      n->ledger_->suite_ptr(), n->node_key_,
      [raw](Height h, const Bytes& cert) { return raw->ledger_->store().PutCommitCert(h, cert); },
      [raw, peers](const Bytes& gossip) {
        for (const auto& p : peers) raw->transport_->Send(p.id, gossip, Channel::kHeaderSig);
      });

  CL_ASSIGN_OR_RETURN(
      n->snapshots_,
      SnapshotManager::Open(SnapshotOptions{.dir = setup.data_dir + "/snapshots",
                                            .store_path = setup.ledger.data_dir,
                                            .store_options = {.chain_id = g.chain_id(), .suite = g.suite()},
                                            .log = n->log_},
                            n->ledger_->store()));

  setup.raft.id = setup.id;
  setup.raft.log = n->log_;
  CL_ASSIGN_OR_RETURN(
      n->driver_,
      RaftDriver::Create(setup.raft, *n->ledger_, *n->mempool_,
                         RaftDriver::Hooks{
                             .send = [raw](const raftpb::Message& m) { raw->SendRaft(m); },
                             .on_block = [raw](const AppliedBlock& b) { raw->OnBlock(b); },
                             .now_ms = WallClockMs,
                             .on_soft_state =
                                 [raw](const consensus::SoftState& ss) { raw->OnSoftState(ss); },
                             .make_snapshot = [raw] { return raw->snapshots_->MakeCheckpoint(); },
                             .on_snapshot_installed =
                                 [raw](Height h) {
                                   // Blocks that came in the snapshot were never announced:
                                   // answer clients waiting for a tx they contain.
                                   for (const crypto::Digest& id : raw->waiters_->Pending())
                                     raw->ResolveIfApplied(id);
                                   raw->notifier_.Publish(h);
                                   raw->RefreshPeers();
                                 },
                         }));
  n->snapshots_->SetCallbacks(
      [raw](NodeId to, Bytes payload) { return raw->transport_->Send(to, std::move(payload), Channel::kSnapshot); },
      [raw](NodeId to, bool failed) { raw->driver_->ReportSnapshot(to, failed); },
      [raw](raftpb::Message m, std::unique_ptr<storage::SnapshotInstaller> inst) {
        raw->driver_->InstallSnapshot(std::move(m), std::move(inst),
                                      [raw](Status s) { raw->snapshots_->InstallFinished(s); });
      });
  n->RefreshPeers();
  return n;
}

uint16_t Node::peer_port() const { return transport_->listen_port(); }

TransportStats Node::transport_stats() const { return transport_->Stats(); }

void Node::SendRaft(const raftpb::Message& m) {
  // A snapshot travels as a stream of chunks with the MsgSnap at its end.
  if (m.type() == raftpb::MSG_SNAP) return snapshots_->Stream(m);
  transport_->Send(NodeId(m.to()), m.SerializeAsString(), Channel::kRaft);
}

std::string Node::http_address_of(NodeId id) const {
  std::lock_guard lock(peers_mu_);
  auto it = http_addresses_.find(id);
  return it == http_addresses_.end() ? std::string() : it->second;
}

void Node::RefreshPeers() {
  // Nodes registered by governance after genesis (a few dozen at most).
  auto nodes = ledger_->store().state().Scan(contracts::keys::kNode, "", 1000);
  if (!nodes.ok()) return;
  for (const auto& [key, value] : *nodes) {
    v1::NodeInfo ni;
    if (!ni.ParseFromString(value) || ni.node_id() == id_.value()) continue;
    const NodeId id(ni.node_id());
    std::lock_guard lock(peers_mu_);
    http_addresses_[id] = ni.http_address();
    auto it = known_peers_.find(id);
    if (ni.role() == v1::NodeInfo::REMOVED) {
      if (it != known_peers_.end()) {
        known_peers_.erase(it);
        transport_->RemovePeer(id);
        log_.Info("peer_removed", {{"peer", id}});
      }
      continue;
    }
    // Known with this key: nothing to do. A new node, or a key rotated by
    // governance: (re)register it with the transport.
    if (it != known_peers_.end() && it->second.first == ni.public_key()) continue;
    known_peers_[id] = {ni.public_key(), ni.peer_address()};
    transport_->AddPeer(PeerInfo{id, ni.peer_address(), ni.public_key()});
    log_.Info("peer_added", {{"peer", id}, {"address", ni.peer_address()}});
  }
}

void Node::Start() {
  if (started_) return;
  started_ = true;
  transport_->Start();
  driver_->Start();
  sweeper_ = std::thread([this] {
    NameThisThread("cl-sweeper");
    uint64_t sweeps = 0;
    std::unique_lock lock(stop_mu_);
    while (!stopping_) {
      stop_cv_.wait_for(lock, std::chrono::milliseconds(200));
      lock.unlock();
      waiters_->Sweep(TxWaiters::Clock::now());
      mempool_->Expire(WallClockMs());
      if (++sweeps % 5 == 0) RefreshPeers();
      lock.lock();
    }
  });
  log_.Info("node_started", {{"height", ledger_->height()}, {"applied", ledger_->applied_index()},
                             {"peer_port", peer_port()}});
}

void Node::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  stop_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  snapshots_->Stop();
  driver_->Stop();
  transport_->Stop();
  waiters_->Sweep(TxWaiters::Clock::now(), /*shutting_down=*/true);
  log_.Info("node_stopped", {{"height", ledger_->height()}});
}

void Node::OnPeerPayload(NodeId from, uint8_t channel, Bytes payload) {
  switch (static_cast<Channel>(channel)) {
    case Channel::kRaft: {
      raftpb::Message m;
      if (!m.ParseFromString(payload) || m.from() != from.value()) {
        log_.Warn("peer_bad_raft_message", {{"peer", from}});
        return;
      }
      if (m.type() == raftpb::MSG_SNAP) {  // only valid at the end of a snapshot stream
        log_.Warn("peer_bare_snapshot_message", {{"peer", from}});
        return;
      }
      driver_->Receive(std::move(m));
      return;
    }
    case Channel::kHeaderSig:
      certs_->OnGossip(from, payload);
      return;
    case Channel::kForward: {
      // A follower's client transaction: checked again here, never trusted.
      auto admitted = CheckTx(std::move(payload), admission_, ledger_->suite(), WallClockMs());
      if (!admitted) return;
      ledger_->NoteVerified(admitted->raw);
      AdmitLocal(std::move(*admitted), [](std::optional<Rejection>) {});
      return;
    }
    case Channel::kSnapshot:
      snapshots_->OnFrame(from, payload);
      return;
  }
}

void Node::AdmitLocal(AdmittedTx tx, const std::function<void(std::optional<Rejection>)>& done) {
  auto added = mempool_->Add(std::move(tx));
  if (!added) return done(added.error());
  driver_->NotifyPending();
  done(std::nullopt);
}

void Node::Submit(Bytes raw_tx, std::optional<std::chrono::steady_clock::time_point> wait_until,
                  std::function<void(Result<SubmitResult>, std::optional<RejectReason>)> done) {
  auto admitted = CheckTx(std::move(raw_tx), admission_, ledger_->suite(), WallClockMs());
  if (!admitted) return done(admitted.error().ToStatus(), admitted.error().reason);
  ledger_->NoteVerified(admitted->raw);
  const crypto::Digest id = admitted->id;
  if (ledger_->store().blocks().FindTx(id).ok())
    return done(AlreadyExists("DUPLICATE_TX: tx " + id.ToHex() + " is already applied"),
                RejectReason::kDuplicate);

  const DriverStatus st = driver_->status();
  const bool leader = st.role == consensus::StateRole::kLeader;
  if (!leader && st.leader == NodeId())
    return done(Unavailable("no leader at the moment; retry shortly"), std::nullopt);

  // Register the waiter before the tx can possibly be applied.
  std::optional<uint64_t> handle;
  auto shared_done = std::make_shared<decltype(done)>(std::move(done));
  if (wait_until) {
    auto h = waiters_->Register(id, *wait_until, [id, shared_done](Result<TxOutcome> r) {
      if (!r.ok()) return (*shared_done)(r.status(), std::nullopt);
      (*shared_done)(SubmitResult{.tx_id = id, .forwarded = false, .outcome = *r}, std::nullopt);
    });
    if (!h.ok()) return (*shared_done)(h.status(), std::nullopt);
    handle = *h;
  }

  std::optional<Rejection> rejected;
  bool forwarded = false;
  if (leader) {
    AdmitLocal(std::move(*admitted), [&](std::optional<Rejection> r) { rejected = std::move(r); });
  } else if (!transport_->IsConnected(st.leader)) {
    // The leader we knew is unreachable from here; an election is likely under
    // way. Say so now rather than queue the tx toward a dead link.
    if (handle) waiters_->Cancel(id, *handle);
    return (*shared_done)(Unavailable("the leader (node " + std::to_string(st.leader.value()) +
                                      ") is unreachable from this node; retry shortly"),
                          std::nullopt);
  } else {
    forwarded = transport_->Send(st.leader, std::move(admitted->raw), Channel::kForward);
    if (!forwarded) rejected = Rejection{RejectReason::kMempoolFull, "forward queue to the leader is full"};
  }
  if (rejected) {
    if (handle) waiters_->Cancel(id, *handle);
    return (*shared_done)(rejected->ToStatus(), rejected->reason);
  }
  if (!wait_until)
    return (*shared_done)(SubmitResult{.tx_id = id, .forwarded = forwarded, .outcome = {}},
                          std::nullopt);
  // Applied meanwhile (between the check above and the registration)?
  ResolveIfApplied(id);
}

void Node::ResolveIfApplied(const crypto::Digest& id) {
  const storage::BlockStore& blocks = ledger_->store().blocks();
  auto loc = blocks.FindTx(id);
  if (!loc.ok()) return;
  auto receipt = blocks.Receipt(loc->height, loc->position);
  waiters_->Resolve(id, TxOutcome{.height = loc->height,
                                  .position = loc->position,
                                  .receipt = receipt.ok() ? *receipt : Bytes()});
}

// A node that stopped leading hands what its mempool holds to the new leader,
// so transactions accepted here are not stranded until they expire.
void Node::OnSoftState(const consensus::SoftState& ss) {
  if (ss.role == consensus::StateRole::kLeader || ss.lead == NodeId()) return;
  if (mempool_->size() == 0) return;
  std::vector<AdmittedTx> txs = mempool_->TakeBatch(SIZE_MAX, SIZE_MAX, WallClockMs());
  std::vector<crypto::Digest> ids;
  for (AdmittedTx& t : txs) {
    ids.push_back(t.id);
    transport_->Send(ss.lead, std::move(t.raw), Channel::kForward);
  }
  mempool_->OnApplied(ids);
  log_.Info("mempool_handed_over", {{"leader", ss.lead}, {"txs", ids.size()}});
}

void Node::OnBlock(const AppliedBlock& b) {
  // Clients waiting for these txs first: their answers do not depend on the
  // header signature below (a commit certificate needs a quorum anyway).
  for (size_t i = 0; i < b.tx_ids.size(); ++i)
    waiters_->Resolve(b.tx_ids[i], TxOutcome{.height = b.height,
                                             .position = static_cast<uint32_t>(i),
                                             .receipt = b.receipts[i]});
  certs_->OnApplied(b.height, b.hash);
  notifier_.Publish(b.height);
}

}  // namespace cl::node
