#include "contracts/overlay.h"

#include <algorithm>

namespace cl::contracts {

Result<std::optional<Bytes>> OverlayState::Get(ByteView key) const {
  if (auto pending = writes_->Find(key)) return *pending;
  return base_.Get(key);
}

namespace {
bool HasPrefix(ByteView s, ByteView prefix) { return s.substr(0, prefix.size()) == prefix; }
}  // namespace

Result<std::vector<KeyValue>> OverlayState::Scan(ByteView prefix, ByteView start_after,
                                                 size_t limit) const {
  std::vector<KeyValue> out;
  if (limit == 0) return out;
  const auto& ops = writes_->ops();
  auto w =
      start_after.empty() ? ops.lower_bound(Bytes(prefix)) : ops.upper_bound(Bytes(start_after));
  auto w_valid = [&] { return w != ops.end() && HasPrefix(w->first, prefix); };

  // The base is read in pages; deletes in the write set may hide some of a
  // page, so keep paging until `limit` entries are out or both sides end.
  Bytes base_cursor(start_after);
  std::vector<KeyValue> page;
  size_t pos = 0;
  bool base_done = false;
  auto refill = [&]() -> Status {
    if (pos < page.size() || base_done) return Status::Ok();
    CL_ASSIGN_OR_RETURN(page, base_.Scan(prefix, base_cursor, limit));
    pos = 0;
    if (page.size() < limit) base_done = true;
    if (!page.empty()) base_cursor = page.back().first;
    return Status::Ok();
  };
  CL_RETURN_IF_ERROR(refill());
  while (out.size() < limit) {
    bool b_valid = pos < page.size();
    if (!b_valid && !w_valid()) break;
    if (w_valid() && (!b_valid || w->first <= page[pos].first)) {
      if (b_valid && w->first == page[pos].first) ++pos;  // pending write shadows the base
      if (w->second) out.emplace_back(w->first, *w->second);
      ++w;
    } else {
      out.push_back(std::move(page[pos]));
      ++pos;
    }
    CL_RETURN_IF_ERROR(refill());
  }
  return out;
}

}  // namespace cl::contracts
