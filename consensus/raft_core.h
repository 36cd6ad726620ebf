// The raft state machine behind RawNode (etcd raft.go). Internal to
// consensus/ and its tests: callers use RawNode (raft.h).
//
// Everything here is deterministic given the Config (incl. random_seed) and
// the sequence of inputs. Messages produced by Step/Tick accumulate in msgs()
// until RawNode moves them into a Ready.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "consensus/confchange.h"
#include "consensus/progress.h"
#include "consensus/raft.h"
#include "consensus/raft_log.h"
#include "consensus/rand.h"
#include "consensus/read_only.h"

namespace cl::consensus {

// Context marking a vote request sent on a leader transfer (it may disturb
// a leader lease: the old leader asked for it).
inline constexpr char kCampaignTransfer[] = "CampaignTransfer";

std::string_view StateRoleName(StateRole r);
std::string_view MessageTypeName(raft::MessageType t);
bool IsLocalMessage(raft::MessageType t);
bool IsResponseMessage(raft::MessageType t);

class Raft {
 public:
  // Validates config, restores hard state, configuration and log from storage.
  static Result<std::unique_ptr<Raft>> Create(const Config& config);

  // Input. Messages with a term are handled per §5.1 (a newer term makes us a
  // follower; an older one is ignored or answered so its sender steps down).
  // Returns UNAVAILABLE (proposal dropped), RESOURCE_EXHAUSTED or ABORTED for
  // refused proposals; state never changes on an error.
  Status Step(const raft::Message& m);
  void Tick();

  // Called by RawNode.
  void AppliedTo(RaftIndex i);
  // After the caller persisted the log up to the stable index: a leader
  // acknowledges its own entries and may commit.
  void OnPersisted();
  raft::ConfState ApplyConfChange(const raft::ConfChange& cc);
  void ReduceUncommittedSize(const std::vector<raft::Entry>& ents);
  // Checks a conf change a local caller proposes (one pending at a time, the
  // 2015 fix, valid against the current configuration).
  Status CheckConfChangeProposal(const raft::ConfChange& cc) const;
  void ForgetLeader();

  // State (read-only views).
  NodeId id() const { return id_; }
  RaftTerm term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId lead() const { return lead_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  StateRole state() const { return state_; }
  bool is_learner() const { return is_learner_; }
  const RaftLog& log() const { return log_; }
  RaftLog& mutable_log() { return log_; }
  const ProgressTracker& tracker() const { return trk_; }
  RaftIndex pending_conf_index() const { return pending_conf_index_; }
  uint64_t uncommitted_size() const { return uncommitted_size_; }
  int election_elapsed() const { return election_elapsed_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  const Config& config() const { return cfg_; }
  raft::HardState HardState() const;
  SoftState GetSoftState() const { return SoftState{.lead = lead_, .role = state_}; }

  std::vector<raft::Message>& msgs() { return msgs_; }
  std::vector<ReadState>& read_states() { return read_states_; }

  // Tests: move the election timeout (the paper tests pin it).
  void SetRandomizedElectionTimeoutForTest(int t) { randomized_election_timeout_ = t; }
  void BecomeFollowerForTest(RaftTerm t, NodeId lead) { BecomeFollower(t, lead); }
  void BecomeCandidateForTest() { BecomeCandidate(); }
  void BecomePreCandidateForTest() { BecomePreCandidate(); }
  void BecomeLeaderForTest() { BecomeLeader(); }

 private:
  explicit Raft(const Config& config);

  enum class CampaignType { kPreElection, kElection, kTransfer };

  // Role transitions (§5.2).
  void BecomeFollower(RaftTerm term, NodeId lead);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();
  void Reset(RaftTerm term);
  void Hup(CampaignType t);
  void Campaign(CampaignType t);
  ProgressTracker::Tally Poll(NodeId id, raft::MessageType t, bool granted);
  bool Promotable() const;
  bool HasUnappliedConfChanges() const;

  // Role-specific message handling.
  Status StepLeader(const raft::Message& m);
  Status StepCandidate(const raft::Message& m);
  Status StepFollower(const raft::Message& m);
  void HandleAppendEntries(const raft::Message& m);
  void HandleHeartbeat(const raft::Message& m);
  void HandleSnapshot(const raft::Message& m);
  void HandleVote(const raft::Message& m);
  bool Restore(const raft::Snapshot& snap);
  void HandleAppendResponse(const raft::Message& m, Progress& pr);
  void HandleHeartbeatResponse(const raft::Message& m, Progress& pr);
  Status HandleProposal(raft::Message m);
  void HandleTransferLeader(const raft::Message& m, Progress& pr);

  // Sending.
  void Send(raft::Message m);
  void SendAppend(NodeId to) { MaybeSendAppend(to, true); }
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  void SendHeartbeat(NodeId to, const std::string& ctx);
  void BcastAppend();
  void BcastHeartbeat();
  void BcastHeartbeatWithCtx(const std::string& ctx);
  void SendTimeoutNow(NodeId to);

  // Log and commit.
  bool AppendEntry(std::vector<raft::Entry> es);
  bool MaybeCommit();
  bool IncreaseUncommittedSize(const std::vector<raft::Entry>& es);
  bool CommittedEntryInCurrentTerm() const;
  void ReleasePendingReadIndexMessages();
  void SendMsgReadIndexResponse(const raft::Message& m);
  std::optional<raft::Message> ResponseToReadIndexReq(const raft::Message& req,
                                                      RaftIndex read_index);

  // Config.
  raft::ConfState SwitchToConfig(ConfigAndProgress cp);

  void TickElection();
  void TickHeartbeat();
  bool PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }
  void ResetRandomizedElectionTimeout();
  void AbortLeaderTransfer() { lead_transferee_ = NodeId(0); }

  Config cfg_;
  NodeId id_;
  RaftTerm term_;
  NodeId vote_;
  RaftLog log_;
  ProgressTracker trk_;
  StateRole state_ = StateRole::kFollower;
  bool is_learner_ = false;
  std::vector<raft::Message> msgs_;
  std::vector<ReadState> read_states_;
  NodeId lead_;
  NodeId lead_transferee_;
  // Index of the last conf change appended by this leader; none may be
  // proposed while it is above applied (one change at a time).
  RaftIndex pending_conf_index_;
  uint64_t uncommitted_size_ = 0;
  ReadOnly read_only_;
  std::vector<raft::Message> pending_read_index_messages_;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  Xoshiro256 rng_;
};

}  // namespace cl::consensus
