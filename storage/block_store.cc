// Read side of blocks, tx index, receipts, commit certificates, genesis, and
// the contract state.
#include <memory>
#include <shared_mutex>

#include "proto/records.pb.h"
#include "storage/internal/core.h"
#include "storage/store.h"

namespace cl::storage {

using internal::ToSlice;
namespace key = internal::key;

namespace {
std::string HeightName(Height h) { return "block " + std::to_string(h.value()); }
}  // namespace

// ---------------------------------------------------------------- BlockStore

Height BlockStore::latest_height() const { return core_.positions().latest_height; }

crypto::Digest BlockStore::latest_hash() const { return core_.positions().latest_hash; }

Result<StoredBlock> BlockStore::Get(Height h) const {
  CL_ASSIGN_OR_RETURN(auto value, core_.Get(internal::kBlocks, key::Block(h)));
  if (!value) return NotFound(HeightName(h) + " not found");
  return internal::DecodeBlock(core_, h, *value);
}

Result<StoredBlock> BlockStore::GetByHash(const crypto::Digest& hash) const {
  CL_ASSIGN_OR_RETURN(auto height, core_.Get(internal::kBlocks, key::BlockHash(hash)));
  if (!height) return NotFound("no block with hash " + hash.ToHex());
  if (height->size() != 8) return Corruption("block hash index entry has a bad length");
  CL_ASSIGN_OR_RETURN(StoredBlock b, Get(Height(ReadBigEndian64(*height))));
  if (b.hash != hash)
    return Corruption("hash index points " + hash.ToHex() + " at " + HeightName(b.height) +
                      " whose hash is " + b.hash.ToHex());
  return b;
}

Result<std::vector<StoredBlock>> BlockStore::Range(Height from, size_t max_count,
                                                   uint64_t max_bytes) const {
  std::vector<StoredBlock> out;
  Height latest = latest_height();
  uint64_t bytes = 0;
  for (Height h = from; h <= latest && out.size() < max_count; ++h) {
    if (h == Height(0)) continue;
    CL_ASSIGN_OR_RETURN(StoredBlock b, Get(h));
    bytes += b.block.size();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(std::move(b));
  }
  return out;
}

Result<TxLocation> BlockStore::FindTx(const crypto::Digest& tx_id) const {
  CL_ASSIGN_OR_RETURN(auto value, core_.Get(internal::kTxIndex, key::TxIndex(tx_id)));
  if (!value) return NotFound("transaction " + tx_id.ToHex() + " not found");
  if (value->size() != 20) return Corruption("tx_index entry has a bad length");
  TxLocation loc;
  loc.height = Height(ReadBigEndian64(*value));
  loc.position = ReadBigEndian32(ByteView(*value).substr(8));
  loc.leaf_index = ReadBigEndian64(ByteView(*value).substr(12));
  return loc;
}

Result<Bytes> BlockStore::Receipt(Height h, uint32_t position) const {
  CL_ASSIGN_OR_RETURN(auto value, core_.Get(internal::kReceipts, key::Receipt(h, position)));
  if (!value)
    return NotFound("no receipt at " + HeightName(h) + " position " + std::to_string(position));
  return std::move(*value);
}

Result<Bytes> BlockStore::CommitCert(Height h) const {
  CL_ASSIGN_OR_RETURN(auto value, core_.Get(internal::kBlocks, key::CommitCert(h)));
  if (!value) return NotFound("no commit certificate for " + HeightName(h));
  return std::move(*value);
}

Result<GenesisRecord> BlockStore::Genesis() const {
  CL_ASSIGN_OR_RETURN(auto value, core_.Get(internal::kMeta, key::kGenesis));
  if (!value) return NotFound("no genesis stored");
  if (value->size() < crypto::Digest::kSize) return Corruption("meta genesis: too short");
  GenesisRecord g;
  g.hash = *crypto::Digest::FromBytes(ByteView(*value).substr(0, crypto::Digest::kSize));
  g.bytes = value->substr(crypto::Digest::kSize);
  if (core_.suite->Hash(g.bytes) != g.hash) return Corruption("meta genesis: bytes do not match their hash");
  return g;
}

// ---------------------------------------------------------------- StateStore

Result<std::optional<Bytes>> StateStore::Get(ByteView k) const {
  auto [hit, ticket] = core_.state_cache->Lookup(k);
  if (hit) return std::move(hit->value);
  CL_ASSIGN_OR_RETURN(std::optional<Bytes> value, core_.Get(internal::kState, k));
  core_.state_cache->Insert(k, value, ticket);
  return value;
}

Result<std::vector<contracts::KeyValue>> StateStore::Scan(ByteView prefix, ByteView start_after,
                                                          size_t limit) const {
  std::vector<contracts::KeyValue> out;
  if (limit == 0) return out;
  rocksdb::ReadOptions ro;
  std::shared_lock db_lock(core_.db_mu);
  CL_RETURN_IF_ERROR(core_.DbOpen());
  std::unique_ptr<rocksdb::Iterator> it(core_.db->NewIterator(ro, core_.h(internal::kState)));
  if (!start_after.empty() && start_after > prefix) {
    it->Seek(ToSlice(start_after));
    if (it->Valid() && it->key() == ToSlice(start_after)) it->Next();
  } else {
    it->Seek(ToSlice(prefix));
  }
  for (; it->Valid() && out.size() < limit; it->Next()) {
    ByteView k(it->key().data(), it->key().size());
    if (k.substr(0, prefix.size()) != prefix) break;
    out.emplace_back(Bytes(k), Bytes(it->value().data(), it->value().size()));
  }
  CL_RETURN_IF_ERROR(internal::FromRocks(it->status(), "scan state"));
  return out;
}

}  // namespace cl::storage
