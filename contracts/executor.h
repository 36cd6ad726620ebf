// The executor: applies one committed batch deterministically and forms its block.
//
// Given the previous block header, the block context (height, the leader's
// proposal time, proposer, raft position) and a read-only StateView, Apply()
// validates each transaction (size, decoding, chain id, expiry window,
// signatures, replay), runs its contract and returns the block (header bytes
// per DESIGN.md, txs as received, one receipt per tx), the tx ids, the write
// set and the history-tree nodes completed by the block. The caller (the node)
// persists all of it in one atomic write.
//
// Determinism: no clock, no randomness, no threads, no I/O, no unordered
// iteration. Two executors created from the same genesis and fed the same
// input produce byte-identical output. Block time is max(batch time, previous
// block time).
//
// Errors: Apply() returns an error only when the StateView fails (I/O,
// corruption) or the caller breaks the input contract (a height that does not
// follow the previous header). Every business rejection - bad signature,
// wrong issuer, revoked certificate, no consent - is a Receipt code, identical
// on every node.
//
// Thread-safety: an Executor is immutable after Create(); Apply() may be
// called concurrently on different inputs. The Suite is shared.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "contracts/state_view.h"
#include "crypto/digest.h"
#include "crypto/merkle.h"
#include "crypto/suite.h"

namespace certledger::v1 {
class BlockHeader;
class Genesis;
class GenesisParams;
class Verdict;
}  // namespace certledger::v1

namespace cl::contracts {

// Where and when a batch is applied; the node takes it from the committed raft
// entry (never from its own clock).
struct BlockContext {
  Height height;        // previous height + 1 (1 for the first block)
  int64_t time_ms = 0;  // Batch.time_ms: the leader's clock at proposal
  NodeId proposer;
  RaftTerm raft_term;
  RaftIndex raft_index;
};

struct ExecInput {
  // The previous header; nullptr for height 1.
  const certledger::v1::BlockHeader* prev_header = nullptr;
  // suite.Hash(previous header bytes), or the genesis hash for height 1.
  crypto::Digest prev_hash;
  // The previous block's time (genesis_time_ms for height 1).
  int64_t prev_time_ms = 0;
  BlockContext ctx;
  // Serialized SignedTx, as carried in the Batch. Borrowed for the call.
  std::span<const Bytes> txs;
  // The state after the previous block. Borrowed for the call; not modified.
  const StateView* state = nullptr;
  // The history tree's right edge after the previous block (restored by the store).
  crypto::MerkleFrontier history;
  // Optional: signatures already checked by the node in parallel with
  // VerifyTxSignatures(); one entry per tx, 1 = valid. Must then have txs.size()
  // entries. nullptr: the executor verifies them itself.
  const std::vector<uint8_t>* presigned_ok = nullptr;
  // Optional: a lower bound on every valid_until_ms in the replay index of
  // `state` (the previous block's ExecOutput::expiry_floor). When it is at or
  // after the block time nothing has expired and the index is not read; the
  // block is the same either way.
  std::optional<int64_t> expiry_floor;
};

struct ExecOutput {
  Bytes header_bytes;         // serialized BlockHeader (hashed and signed as is)
  crypto::Digest block_hash;  // suite.Hash(header_bytes)
  Bytes block;                // serialized Block
  int64_t time_ms = 0;        // the block time used
  std::vector<crypto::Digest> tx_ids;
  std::vector<Bytes> receipts;  // serialized Receipt, one per tx, in order
  WriteSet writes;              // state changes of the whole block
  // History-tree nodes completed by this block's leaves (to persist for proofs).
  std::vector<std::pair<crypto::MerkleNodeId, crypto::Digest>> history_nodes;
  crypto::MerkleFrontier history;  // the frontier after this block
  // A lower bound on every valid_until_ms in the replay index after this
  // block, for the next block's ExecInput; nullopt if not known.
  std::optional<int64_t> expiry_floor;
};

// What ReplayVerdict re-runs: the block that holds a proof request, as stored.
struct ReplayTarget {
  Height height;
  int64_t time_ms = 0;         // the block time (BlockHeader.time_ms)
  std::span<const Bytes> txs;  // the block's txs
  uint32_t index = 0;          // position of the proof request in the block
};

// True if every signature of the serialized SignedTx (signer and cosigners)
// verifies over crypto::TxMessage(body); false if any fails or it does not
// decode. What the node computes in parallel for ExecInput::presigned_ok.
bool VerifyTxSignatures(const crypto::Suite& suite, ByteView signed_tx);
// What VerifyTxSignatures answers for a tx whose signature and cosignatures
// were all verified already over these exact bytes (admission, CheckTx): the
// checks that need no cryptography (it decodes, cosignature count bound).
bool TxSignaturesAcceptableOnceVerified(ByteView signed_tx);

// The tx id of a serialized SignedTx: suite.Hash(body); for bytes that do not
// decode as a SignedTx, suite.Hash(the raw bytes).
crypto::Digest TxIdOf(const crypto::Suite& suite, ByteView signed_tx);

class Executor {
 public:
  // Validates the genesis (chain id, suite name, codes, keys, admin quorum,
  // initial services) and fills default params. INVALID_ARGUMENT naming the
  // first problem. `suite` must be the genesis suite.
  static Result<std::unique_ptr<Executor>> Create(const certledger::v1::Genesis& genesis,
                                                  std::shared_ptr<const crypto::Suite> suite);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // The state at height 0: departments, members, cert types, nodes, admin
  // threshold and initial services of the genesis.
  WriteSet GenesisState() const;

  // Applies one batch; see the file comment.
  Result<ExecOutput> Apply(const ExecInput& input) const;

  // Re-evaluates the proof request at target.index of a stored block against
  // `state_before_block` (the state after block height-1), by re-running the
  // block's earlier txs first: the verdict a node computed at the time. Returns
  // NOT_FOUND if that tx is not an accepted ProofRequest.
  Result<certledger::v1::Verdict> ReplayVerdict(const StateView& state_before_block,
                                                const ReplayTarget& target) const;

  const crypto::Suite& suite() const { return *suite_; }
  const std::string& chain_id() const { return chain_id_; }
  const certledger::v1::GenesisParams& params() const { return *params_; }

 private:
  Executor(std::shared_ptr<const crypto::Suite> suite,
           std::unique_ptr<certledger::v1::Genesis> genesis, WriteSet genesis_state);

  std::shared_ptr<const crypto::Suite> suite_;
  std::unique_ptr<certledger::v1::Genesis> genesis_;  // with params defaults filled
  std::string chain_id_;
  const certledger::v1::GenesisParams* params_;
  WriteSet genesis_state_;
};

}  // namespace cl::contracts
