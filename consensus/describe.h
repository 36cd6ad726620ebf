// Human-readable one-line descriptions of raft records, for logs, status
// pages and the scripted interaction tests (whose expected output is made of
// these lines, so the format is stable: change it only with the testdata).
//
//   Entry:     "1/5 EntryNormal \"data\""  (term/index; conf changes decoded)
//   Message:   "1->2 MsgApp Term:1 Log:1/4 Commit:4 Entries:[1/5 EntryNormal \"x\"]"
//   HardState: "HardState Term:1 Vote:1 Commit:4"
#pragma once

#include <string>
#include <vector>

#include "consensus/raft.h"

namespace cl::consensus {

std::string DescribeEntry(const raft::Entry& e);
std::string DescribeEntries(const std::vector<raft::Entry>& ents);
std::string DescribeMessage(const raft::Message& m);
std::string DescribeHardState(const raft::HardState& hs);
std::string DescribeSoftState(const SoftState& ss);
std::string DescribeConfChange(const raft::ConfChange& cc);
std::string DescribeSnapshot(const raft::Snapshot& s);
// Multi-line description of a Ready, each line indented by `indent`.
std::string DescribeReady(const Ready& rd, const std::string& indent = "");

}  // namespace cl::consensus
