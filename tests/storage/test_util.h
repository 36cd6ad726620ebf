// Small helpers shared by the storage unit tests.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/store.h"
#include "tests/storage/test_chain.h"

namespace cl::storage::testing {

// A fresh directory under the temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("cl_storage_ut_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline StoreOptions TestOptions() { return StoreOptions{.chain_id = kChainId}; }

inline std::unique_ptr<Store> MustOpen(const std::string& path, StoreOptions o = TestOptions()) {
  auto s = Store::Open(path, std::move(o));
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

inline raft::Entry MakeEntry(uint64_t index, uint64_t term) {
  raft::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(EntryData(index, term));
  return e;
}

inline std::vector<raft::Entry> MakeEntries(uint64_t lo, uint64_t hi, uint64_t term) {
  std::vector<raft::Entry> out;
  for (uint64_t i = lo; i <= hi; ++i) out.push_back(MakeEntry(i, term));
  return out;
}

// Applies `blocks` blocks of `txs` txs from the raft entries after the applied
// index (appended first, as a node does), following the crash workload's
// convention (test_chain.h): entries with index % 5 == 0 form no block.
inline void ApplyBlocks(Store& store, ChainBuilder& chain, int blocks, size_t txs) {
  for (int i = 0; i < blocks; ++i) {
    RaftIndex idx = store.applied_index() + 1;
    if (*store.raft_log().LastIndex() < idx) {
      ASSERT_TRUE(store.raft_log().Append(MakeEntries(idx.value(), idx.value(), 1), true).ok());
    }
    if (!IsBlockEntry(idx.value())) {  // the workload's convention: a no-op or conf change
      raft::ConfState cs;
      cs.add_voters(idx.value());
      ASSERT_TRUE(store.ApplyNonBlock(idx, idx.value() % 10 == 0 ? &cs : nullptr).ok());
      --i;
      continue;
    }
    contracts::WriteSet ws;
    BlockWrite w = chain.Next(idx, RaftTerm(1), txs, &ws);
    Status s = store.ApplyBlock(w);
    ASSERT_TRUE(s.ok()) << s;
    chain.Advance(w);
  }
}

}  // namespace cl::storage::testing
