// RFC 6962 / RFC 9162 Merkle trees (Certificate Transparency hashing) over the
// network's suite hash: leaf = H(0x00 || data), node = H(0x01 || left || right),
// empty tree = H(""). Used for block tx/result roots and the history tree.
//
// Indexes are 0-based leaf positions; sizes are leaf counts.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "crypto/digest.h"
#include "crypto/suite.h"

namespace cl::crypto {

Digest MerkleLeafHash(const Suite& suite, ByteView leaf_data);
Digest MerkleNodeHash(const Suite& suite, const Digest& left, const Digest& right);
Digest MerkleEmptyRoot(const Suite& suite);

// Root of the tree whose leaves have the given leaf hashes.
Digest MerkleRoot(const Suite& suite, std::span<const Digest> leaf_hashes);

// Audit path for leaf `index` in the tree of leaf_hashes (RFC 6962 §2.1.1).
// OUT_OF_RANGE if index >= size.
Result<std::vector<Digest>> MerkleInclusionProof(const Suite& suite,
                                                 std::span<const Digest> leaf_hashes,
                                                 uint64_t index);

// Consistency proof between the first old_size leaves and all of them
// (RFC 6962 §2.1.2). OUT_OF_RANGE unless old_size <= size.
Result<std::vector<Digest>> MerkleConsistencyProof(const Suite& suite,
                                                   std::span<const Digest> leaf_hashes,
                                                   uint64_t old_size);

// OK if `proof` shows leaf_hash at index in a tree of `size` leaves with `root`
// (RFC 9162 §2.1.3.2); CORRUPTION otherwise (INVALID_ARGUMENT for index >= size).
Status VerifyMerkleInclusion(const Suite& suite, uint64_t index, uint64_t size,
                             const Digest& leaf_hash, std::span<const Digest> proof,
                             const Digest& root);

// OK if `proof` shows the tree (old_size, old_root) is a prefix of
// (new_size, new_root) (RFC 9162 §2.1.4.2); CORRUPTION otherwise.
Status VerifyMerkleConsistency(const Suite& suite, uint64_t old_size, uint64_t new_size,
                               const Digest& old_root, const Digest& new_root,
                               std::span<const Digest> proof);

// A node of the tree: the root of the perfect subtree of 2^level leaves
// starting at leaf index * 2^level.
struct MerkleNodeId {
  uint32_t level = 0;
  uint64_t index = 0;
  friend auto operator<=>(const MerkleNodeId&, const MerkleNodeId&) = default;
};

// The right edge of an append-only tree ("compact range" / frontier): the roots
// of the perfect subtrees that make up the first `size` leaves, O(log n) digests.
// Appending a leaf completes some perfect subtrees; Append reports them so a
// store can persist every complete node and later serve proofs in O(log n) reads.
class MerkleFrontier {
 public:
  MerkleFrontier() = default;
  // Restores a frontier from its size and subtree roots (largest first, as
  // returned by roots()). INVALID_ARGUMENT if the count does not match popcount(size).
  static Result<MerkleFrontier> Restore(uint64_t size, std::vector<Digest> roots);

  // Appends one leaf hash; appends to `completed` (if non-null) every perfect
  // subtree node this completes, including the leaf itself at level 0.
  void Append(const Suite& suite, const Digest& leaf_hash,
              std::vector<std::pair<MerkleNodeId, Digest>>* completed);

  uint64_t size() const { return size_; }
  const std::vector<Digest>& roots() const { return roots_; }
  // Root of the whole tree so far (MerkleEmptyRoot for size 0).
  Digest Root(const Suite& suite) const;

 private:
  uint64_t size_ = 0;
  std::vector<Digest> roots_;  // largest subtree first
};

}  // namespace cl::crypto
