// RFC 6962 / RFC 9162 Merkle trees.
//
// Two independent constructions of every proof:
//  - the in-memory functions follow the recursive definitions of RFC 6962 §2.1
//    (MTH, PATH, SUBPROOF) literally, over spans of leaf hashes;
//  - the *FromNodes functions compute the same proofs with bit arithmetic over
//    node ids (the approach of transparency-dev/merkle's proof package), so a
//    store can serve them in O(log n) reads.
// Tests check that the two agree for every (index, size) up to a few hundred.
#include "crypto/merkle.h"

#include <bit>

#include "base/check.h"

namespace cl::crypto {
namespace {

constexpr char kLeafPrefix = '\x00';
constexpr char kNodePrefix = '\x01';
// Trees are limited to 2^63 leaves so that every range end and every node
// coverage fits in a uint64_t.
constexpr uint64_t kMaxTreeSize = uint64_t{1} << 63;

// Largest power of two strictly less than n; requires n >= 2.
uint64_t SplitPoint(uint64_t n) {
  CL_DCHECK(n >= 2, "SplitPoint needs n >= 2");
  return std::bit_floor(n - 1);
}

// RFC 6962 §2.1.1: PATH(m, D[n]), appended bottom-up to `out`.
void Path(const Suite& suite, uint64_t m, std::span<const Digest> d, std::vector<Digest>* out) {
  const uint64_t n = d.size();
  if (n <= 1) return;
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    Path(suite, m, d.first(k), out);
    out->push_back(MerkleRoot(suite, d.subspan(k)));
  } else {
    Path(suite, m - k, d.subspan(k), out);
    out->push_back(MerkleRoot(suite, d.first(k)));
  }
}

// RFC 6962 §2.1.2: SUBPROOF(m, D[n], b), appended bottom-up to `out`.
void Subproof(const Suite& suite, uint64_t m, std::span<const Digest> d, bool b,
              std::vector<Digest>* out) {
  const uint64_t n = d.size();
  if (m == n) {
    if (!b) out->push_back(MerkleRoot(suite, d));
    return;
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    Subproof(suite, m, d.first(k), b, out);
    out->push_back(MerkleRoot(suite, d.subspan(k)));
  } else {
    Subproof(suite, m - k, d.subspan(k), false, out);
    out->push_back(MerkleRoot(suite, d.first(k)));
  }
}

// Hash of the leaves [begin, end) where begin is a multiple of a power of two
// >= end - begin (true of every subtree RFC 6962's recursion visits): the
// perfect subtrees of the binary decomposition of the count, largest (leftmost)
// first, folded from the right as MTH's split at the largest power of two does.
Result<Digest> RangeHash(const Suite& suite, uint64_t begin, uint64_t end,
                         const MerkleNodeReader& read) {
  CL_CHECK(begin < end, "RangeHash of an empty range");
  const uint64_t count = end - begin;
  std::vector<Digest> parts;
  uint64_t pos = begin;
  for (int level = std::bit_width(count) - 1; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((count & width) == 0) continue;
    CL_DCHECK(pos % width == 0, "unaligned subtree in RangeHash");
    CL_ASSIGN_OR_RETURN(Digest node, read(MerkleNodeId{static_cast<uint32_t>(level), pos >> level}));
    parts.push_back(node);
    pos += width;
  }
  Digest acc = parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) acc = MerkleNodeHash(suite, parts[i], acc);
  return acc;
}

// The digest of the sibling (level, sibling_index) of a node on the path, in a
// tree of `size` leaves: one read if the sibling is complete, else the fold of
// its part inside [0, size).
Result<Digest> SiblingHash(const Suite& suite, uint32_t level, uint64_t sibling_index,
                           uint64_t size, const MerkleNodeReader& read) {
  const uint64_t begin = sibling_index << level;
  CL_CHECK(begin < size, "sibling lies outside the tree");
  if (size - begin >= (uint64_t{1} << level)) return read(MerkleNodeId{level, sibling_index});
  return RangeHash(suite, begin, size, read);
}

// Appends the path from the complete node (level, index) up to the root of a
// tree of `size` leaves: the siblings bottom-up, as PATH/SUBPROOF order them.
//
// Let last = (size - 1) >> level, the node at this level on the right edge.
// Below the level where the paths to `index` and to `last` meet (`inner`
// levels up), every sibling exists; the highest of them is the right sibling
// that contains the last leaf and may be incomplete. Above, the path runs along
// the right edge: a left sibling exists where the path is a right child, and a
// right-edge node that is a left child has no sibling (RFC 6962 lifts it).
Status AppendPath(const Suite& suite, uint32_t level, uint64_t index, uint64_t size,
                  const MerkleNodeReader& read, std::vector<Digest>* out) {
  const uint64_t last = (size - 1) >> level;
  CL_CHECK(index <= last, "node outside the tree");
  const int inner = std::bit_width(index ^ last);
  for (int j = 0; j < inner; ++j) {
    CL_ASSIGN_OR_RETURN(Digest d, SiblingHash(suite, level + static_cast<uint32_t>(j),
                                              (index >> j) ^ 1, size, read));
    out->push_back(d);
  }
  for (int j = inner; (index >> j) != 0; ++j) {
    if (((index >> j) & 1) == 0) continue;
    CL_ASSIGN_OR_RETURN(Digest d, read(MerkleNodeId{level + static_cast<uint32_t>(j),
                                                    (index >> j) ^ 1}));
    out->push_back(d);
  }
  return Status::Ok();
}

Status ProofFailure(std::string what) { return Corruption("merkle proof rejected: " + what); }

}  // namespace

Digest MerkleLeafHash(const Suite& suite, ByteView leaf_data) {
  const char prefix = kLeafPrefix;
  const ByteView parts[] = {ByteView(&prefix, 1), leaf_data};
  return suite.HashParts(parts);
}

Digest MerkleNodeHash(const Suite& suite, const Digest& left, const Digest& right) {
  const char prefix = kNodePrefix;
  const ByteView parts[] = {ByteView(&prefix, 1), left.view(), right.view()};
  return suite.HashParts(parts);
}

Digest MerkleEmptyRoot(const Suite& suite) { return suite.Hash(ByteView()); }

Digest MerkleRoot(const Suite& suite, std::span<const Digest> leaf_hashes) {
  const uint64_t n = leaf_hashes.size();
  if (n == 0) return MerkleEmptyRoot(suite);
  if (n == 1) return leaf_hashes[0];
  const uint64_t k = SplitPoint(n);
  return MerkleNodeHash(suite, MerkleRoot(suite, leaf_hashes.first(k)),
                        MerkleRoot(suite, leaf_hashes.subspan(k)));
}

Result<std::vector<Digest>> MerkleInclusionProof(const Suite& suite,
                                                 std::span<const Digest> leaf_hashes,
                                                 uint64_t index) {
  if (index >= leaf_hashes.size())
    return OutOfRange("inclusion proof for leaf " + std::to_string(index) + " of a tree of " +
                      std::to_string(leaf_hashes.size()));
  std::vector<Digest> proof;
  Path(suite, index, leaf_hashes, &proof);
  return proof;
}

Result<std::vector<Digest>> MerkleConsistencyProof(const Suite& suite,
                                                   std::span<const Digest> leaf_hashes,
                                                   uint64_t old_size) {
  if (old_size > leaf_hashes.size())
    return OutOfRange("consistency proof from size " + std::to_string(old_size) +
                      " to the smaller size " + std::to_string(leaf_hashes.size()));
  std::vector<Digest> proof;
  // RFC 6962 §2.1.2 defines PROOF(m, D[n]) for 0 < m < n; it is empty otherwise.
  if (old_size == 0 || old_size == leaf_hashes.size()) return proof;
  Subproof(suite, old_size, leaf_hashes, true, &proof);
  return proof;
}

Status VerifyMerkleInclusion(const Suite& suite, uint64_t index, uint64_t size,
                             const Digest& leaf_hash, std::span<const Digest> proof,
                             const Digest& root) {
  if (index >= size)
    return InvalidArgument("leaf index " + std::to_string(index) + " is not below tree size " +
                           std::to_string(size));
  // RFC 9162 §2.1.3.2, step by step.
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Digest r = leaf_hash;
  for (const Digest& p : proof) {
    if (sn == 0) return ProofFailure("inclusion proof too long");
    if ((fn & 1) == 1 || fn == sn) {
      r = MerkleNodeHash(suite, p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = MerkleNodeHash(suite, r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFailure("inclusion proof too short");
  if (r != root) return ProofFailure("inclusion proof does not lead to the root");
  return Status::Ok();
}

Status VerifyMerkleConsistency(const Suite& suite, uint64_t old_size, uint64_t new_size,
                               const Digest& old_root, const Digest& new_root,
                               std::span<const Digest> proof) {
  if (old_size > new_size)
    return InvalidArgument("old tree size " + std::to_string(old_size) +
                           " exceeds new tree size " + std::to_string(new_size));
  if (old_size == new_size || old_size == 0) {
    if (!proof.empty()) return ProofFailure("consistency proof must be empty for these sizes");
    if (old_size == 0) {
      if (old_root != MerkleEmptyRoot(suite)) return ProofFailure("old root of size 0 is not the empty root");
      if (new_size == 0 && new_root != old_root) return ProofFailure("roots of size 0 differ");
      return Status::Ok();
    }
    if (old_root != new_root) return ProofFailure("roots of equal sizes differ");
    return Status::Ok();
  }
  // RFC 9162 §2.1.4.2, step by step, for 0 < old_size < new_size.
  if (proof.empty()) return ProofFailure("consistency proof is empty");
  size_t next = 0;
  Digest fr, sr;
  if (std::has_single_bit(old_size)) {
    fr = sr = old_root;  // step 2: the old root is the first node of the path
  } else {
    fr = sr = proof[next++];
  }
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  for (; next < proof.size(); ++next) {
    const Digest& c = proof[next];
    if (sn == 0) return ProofFailure("consistency proof too long");
    if ((fn & 1) == 1 || fn == sn) {
      fr = MerkleNodeHash(suite, c, fr);
      sr = MerkleNodeHash(suite, c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = MerkleNodeHash(suite, sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFailure("consistency proof too short");
  if (fr != old_root) return ProofFailure("consistency proof does not lead to the old root");
  if (sr != new_root) return ProofFailure("consistency proof does not lead to the new root");
  return Status::Ok();
}

Result<Digest> MerkleRootFromNodes(const Suite& suite, uint64_t size,
                                   const MerkleNodeReader& read) {
  if (size > kMaxTreeSize) return OutOfRange("tree size exceeds 2^63");
  if (size == 0) return MerkleEmptyRoot(suite);
  return RangeHash(suite, 0, size, read);
}

Result<std::vector<Digest>> MerkleInclusionProofFromNodes(const Suite& suite, uint64_t index,
                                                          uint64_t size,
                                                          const MerkleNodeReader& read) {
  if (size > kMaxTreeSize) return OutOfRange("tree size exceeds 2^63");
  if (index >= size)
    return OutOfRange("inclusion proof for leaf " + std::to_string(index) + " of a tree of " +
                      std::to_string(size));
  std::vector<Digest> proof;
  CL_RETURN_IF_ERROR(AppendPath(suite, 0, index, size, read, &proof));
  return proof;
}

Result<std::vector<Digest>> MerkleConsistencyProofFromNodes(const Suite& suite,
                                                            uint64_t old_size, uint64_t new_size,
                                                            const MerkleNodeReader& read) {
  if (new_size > kMaxTreeSize) return OutOfRange("tree size exceeds 2^63");
  if (old_size > new_size)
    return OutOfRange("consistency proof from size " + std::to_string(old_size) +
                      " to the smaller size " + std::to_string(new_size));
  std::vector<Digest> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  // The smallest perfect subtree of the old tree's decomposition, (level, index),
  // covers leaves up to old_size - 1. The proof is that node (omitted when it is
  // the whole old tree, i.e. old_size is a power of two, since the verifier
  // knows the old root) followed by its path in the new tree.
  const auto level = static_cast<uint32_t>(std::countr_zero(old_size));
  const uint64_t index = (old_size - 1) >> level;
  if (index != 0) {
    CL_ASSIGN_OR_RETURN(Digest first, read(MerkleNodeId{level, index}));
    proof.push_back(first);
  }
  CL_RETURN_IF_ERROR(AppendPath(suite, level, index, new_size, read, &proof));
  return proof;
}

Result<MerkleFrontier> MerkleFrontier::Restore(uint64_t size, std::vector<Digest> roots) {
  if (size > kMaxTreeSize) return InvalidArgument("frontier size exceeds 2^63");
  if (roots.size() != static_cast<size_t>(std::popcount(size)))
    return InvalidArgument("a frontier of size " + std::to_string(size) + " has " +
                           std::to_string(std::popcount(size)) + " subtree roots, got " +
                           std::to_string(roots.size()));
  MerkleFrontier f;
  f.size_ = size;
  f.roots_ = std::move(roots);
  return f;
}

Result<MerkleFrontier> MerkleFrontier::FromNodes(uint64_t size, const MerkleNodeReader& read) {
  if (size > kMaxTreeSize) return InvalidArgument("frontier size exceeds 2^63");
  std::vector<Digest> roots;
  uint64_t pos = 0;
  for (int level = std::bit_width(size) - 1; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((size & width) == 0) continue;
    CL_ASSIGN_OR_RETURN(Digest node, read(MerkleNodeId{static_cast<uint32_t>(level), pos >> level}));
    roots.push_back(node);
    pos += width;
  }
  return Restore(size, std::move(roots));
}

void MerkleFrontier::Append(const Suite& suite, const Digest& leaf_hash,
                            std::vector<std::pair<MerkleNodeId, Digest>>* completed) {
  CL_CHECK(size_ < kMaxTreeSize, "Merkle tree is full (2^63 leaves)");
  CL_DCHECK(roots_.size() == static_cast<size_t>(std::popcount(size_)), "frontier out of shape");
  Digest node = leaf_hash;
  uint32_t level = 0;
  const uint64_t index = size_;  // the new leaf's position
  if (completed != nullptr) completed->emplace_back(MerkleNodeId{0, index}, node);
  // Each trailing one bit of the old size is a subtree of the same height as
  // `node` waiting on its right sibling: merge until a zero bit.
  while (((size_ >> level) & 1) == 1) {
    node = MerkleNodeHash(suite, roots_.back(), node);
    roots_.pop_back();
    ++level;
    if (completed != nullptr) completed->emplace_back(MerkleNodeId{level, index >> level}, node);
  }
  roots_.push_back(node);
  ++size_;
}

Digest MerkleFrontier::Root(const Suite& suite) const {
  if (roots_.empty()) return MerkleEmptyRoot(suite);
  Digest acc = roots_.back();
  for (size_t i = roots_.size() - 1; i-- > 0;) acc = MerkleNodeHash(suite, roots_[i], acc);
  return acc;
}

}  // namespace cl::crypto
