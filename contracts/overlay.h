// OverlayState: a StateView that reads through pending writes.
//
// Reads see `writes` first, then `base`; writes go only to `writes`. The
// executor stacks two: one per block over the stored state, one per
// transaction over the block's, so a rejected transaction's writes are simply
// dropped. Both `base` and `writes` are borrowed and must outlive the overlay.
#pragma once

#include "contracts/state_view.h"

namespace cl::contracts {

class OverlayState final : public StateView {
 public:
  OverlayState(const StateView& base, WriteSet* writes) : base_(base), writes_(writes) {}

  Result<std::optional<Bytes>> Get(ByteView key) const override;
  // Merges the base's entries with the pending writes (puts added, deletes
  // hidden), in key order, up to `limit`.
  Result<std::vector<KeyValue>> Scan(ByteView prefix, ByteView start_after,
                                     size_t limit) const override;

  void Put(ByteView key, ByteView value) { writes_->Put(key, value); }
  void Delete(ByteView key) { writes_->Delete(key); }

  WriteSet& writes() { return *writes_; }

 private:
  const StateView& base_;
  WriteSet* writes_;
};

}  // namespace cl::contracts
