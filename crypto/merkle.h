// RFC 6962 / RFC 9162 Merkle trees (Certificate Transparency hashing) over the
// network's suite hash: leaf = H(0x00 || data), node = H(0x01 || left || right),
// empty tree = H(""). Used for block tx/result roots and the history tree.
//
// Indexes are 0-based leaf positions; sizes are leaf counts.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
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
// A proof that is too long or too short is CORRUPTION.
// Note (inherent to RFC 6962): a proof binds the leaf, its index and the shape
// of its path, not the size itself — e.g. the proof of leaf 0 in a tree of 3
// also verifies for size 4 with the same root. The size is authenticated by
// whatever signs (size, root) together: the block header.
Status VerifyMerkleInclusion(const Suite& suite, uint64_t index, uint64_t size,
                             const Digest& leaf_hash, std::span<const Digest> proof,
                             const Digest& root);

// OK if `proof` shows the tree (old_size, old_root) is a prefix of
// (new_size, new_root) (RFC 9162 §2.1.4.2); CORRUPTION otherwise.
// INVALID_ARGUMENT if old_size > new_size. Edge cases, stricter than RFC 9162
// (which leaves them undefined): old_size == new_size needs an empty proof and
// equal roots; old_size == 0 needs an empty proof and old_root ==
// MerkleEmptyRoot (and new_root == MerkleEmptyRoot when new_size is 0 too).
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

// Reads the digest of one complete node: the root of the perfect subtree
// (level, index), which lies wholly inside the leaves the caller asked about.
// A store returns its own error (NOT_FOUND, IO_ERROR, CORRUPTION ...) when it
// cannot; the *FromNodes functions pass that error through unchanged.
using MerkleNodeReader = std::function<Result<Digest>(MerkleNodeId)>;

// The *FromNodes functions compute the same digests as the in-memory functions
// above, from stored complete nodes (as reported by MerkleFrontier::Append), in
// O(log size) reads and hashes. Which nodes they read:
//  - every node read is complete and lies wholly inside [0, size) (for
//    consistency proofs inside [0, new_size)), so a store that persisted every
//    node MerkleFrontier::Append reported can serve all reads;
//  - a proof element that is a perfect subtree is read as one node; the one
//    element that may cover an incomplete right edge [start, size) is folded
//    from the perfect subtrees of that range (at most log2(size) reads);
//  - at most 2 * (bit_width(size) + 1) reads per call.
// The reader is called synchronously and not retained.

// Root of the first `size` leaves: the perfect subtrees of the binary
// decomposition of size (largest first, MerkleFrontier's roots), folded.
Result<Digest> MerkleRootFromNodes(const Suite& suite, uint64_t size,
                                   const MerkleNodeReader& read);

// Same proof as MerkleInclusionProof. OUT_OF_RANGE if index >= size.
Result<std::vector<Digest>> MerkleInclusionProofFromNodes(const Suite& suite, uint64_t index,
                                                          uint64_t size,
                                                          const MerkleNodeReader& read);

// Same proof as MerkleConsistencyProof. OUT_OF_RANGE unless old_size <= new_size.
Result<std::vector<Digest>> MerkleConsistencyProofFromNodes(const Suite& suite,
                                                            uint64_t old_size, uint64_t new_size,
                                                            const MerkleNodeReader& read);

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
  // Restores the frontier of the first `size` leaves by reading its popcount(size)
  // subtree roots from a node store (the nodes MerkleRootFromNodes reads).
  static Result<MerkleFrontier> FromNodes(uint64_t size, const MerkleNodeReader& read);

  // Appends one leaf hash; appends to `completed` (if non-null) every perfect
  // subtree node this completes, including the leaf itself at level 0, in
  // increasing level order. Storing every reported node gives exactly the
  // nodes the *FromNodes functions read. Crashes if the tree is full (2^63 leaves).
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
