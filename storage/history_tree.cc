// The history tree on disk. Nodes live in the `history` column family keyed
// by (level, index); crypto's *FromNodes functions decide which O(log n) nodes
// a root or proof needs, and read only complete nodes inside the requested
// size, so proofs for any older size are served from the same nodes.
#include "storage/internal/core.h"
#include "storage/store.h"

namespace cl::storage {

namespace {

crypto::MerkleNodeReader NodeReader(const internal::Core& core) {
  return [&core](crypto::MerkleNodeId id) -> Result<crypto::Digest> {
    CL_ASSIGN_OR_RETURN(auto value,
                        core.Get(internal::kHistory, internal::key::HistoryNode(id.level, id.index)));
    std::string where =
        "history node (" + std::to_string(id.level) + ", " + std::to_string(id.index) + ")";
    if (!value) return Corruption(where + " is missing");
    auto d = crypto::Digest::FromBytes(*value);
    if (!d) return Corruption(where + " has a bad length");
    return *d;
  };
}

Status CheckSize(uint64_t size, uint64_t current) {
  if (size > current)
    return OutOfRange("history size " + std::to_string(size) + " is past the current size " +
                      std::to_string(current));
  return Status::Ok();
}

}  // namespace

uint64_t HistoryTree::size() const { return core_.positions().frontier.size(); }

crypto::MerkleFrontier HistoryTree::Frontier() const { return core_.positions().frontier; }

Result<crypto::Digest> HistoryTree::Root(uint64_t size) const {
  CL_RETURN_IF_ERROR(CheckSize(size, this->size()));
  return crypto::MerkleRootFromNodes(*core_.suite, size, NodeReader(core_));
}

Result<std::vector<crypto::Digest>> HistoryTree::InclusionProof(uint64_t index,
                                                                uint64_t size) const {
  CL_RETURN_IF_ERROR(CheckSize(size, this->size()));
  if (index >= size)
    return OutOfRange("leaf " + std::to_string(index) + " is not in a tree of " +
                      std::to_string(size));
  return crypto::MerkleInclusionProofFromNodes(*core_.suite, index, size, NodeReader(core_));
}

Result<std::vector<crypto::Digest>> HistoryTree::ConsistencyProof(uint64_t old_size,
                                                                  uint64_t new_size) const {
  CL_RETURN_IF_ERROR(CheckSize(new_size, this->size()));
  if (old_size > new_size)
    return OutOfRange("old size " + std::to_string(old_size) + " > new size " +
                      std::to_string(new_size));
  return crypto::MerkleConsistencyProofFromNodes(*core_.suite, old_size, new_size,
                                                 NodeReader(core_));
}

}  // namespace cl::storage
