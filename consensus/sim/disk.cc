#include "consensus/sim/disk.h"

namespace cl::consensus::sim {

Status SimDisk::Sync() {
  std::vector<Write> writes = std::move(pending_);
  pending_.clear();
  for (const Write& w : writes) {
    if (const auto* hs = std::get_if<raft::HardState>(&w)) {
      durable_.SetHardState(*hs);
    } else if (const auto* ents = std::get_if<std::vector<raft::Entry>>(&w)) {
      CL_RETURN_IF_ERROR(durable_.Append(*ents));
    } else {
      CL_RETURN_IF_ERROR(durable_.ApplySnapshot(std::get<raft::Snapshot>(w)));
    }
  }
  return Status::Ok();
}

}  // namespace cl::consensus::sim
