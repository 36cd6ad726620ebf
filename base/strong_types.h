// Strong integer types for ids, terms, indexes and heights, so one cannot be
// passed where another is expected. They are regular value types: totally
// ordered, hashable, printable, with the little arithmetic log positions need.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>

namespace cl {

template <typename Tag, typename Rep = uint64_t>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep v) : v_(v) {}

  constexpr Rep value() const { return v_; }

  friend constexpr auto operator<=>(StrongInt, StrongInt) = default;
  friend constexpr bool operator==(StrongInt, StrongInt) = default;

  // Positions move by plain counts; the distance of two positions is a count.
  friend constexpr StrongInt operator+(StrongInt a, Rep n) { return StrongInt(a.v_ + n); }
  friend constexpr StrongInt operator-(StrongInt a, Rep n) { return StrongInt(a.v_ - n); }
  friend constexpr Rep operator-(StrongInt a, StrongInt b) { return a.v_ - b.v_; }
  constexpr StrongInt& operator++() { ++v_; return *this; }
  constexpr StrongInt operator++(int) { StrongInt old = *this; ++v_; return old; }
  constexpr StrongInt& operator+=(Rep n) { v_ += n; return *this; }

  constexpr StrongInt next() const { return StrongInt(v_ + 1); }

  friend std::ostream& operator<<(std::ostream& os, StrongInt s) { return os << s.v_; }

 private:
  Rep v_ = 0;
};

// Height of a block; the genesis state is height 0, the first block height 1.
using Height = StrongInt<struct HeightTag>;
// Position of an entry in the raft log (1-based; 0 means "none").
using RaftIndex = StrongInt<struct RaftIndexTag>;
// Raft term (0 before any election).
using RaftTerm = StrongInt<struct RaftTermTag>;
// Raft node id, unique in a network and never reused (0 means "none").
using NodeId = StrongInt<struct NodeIdTag>;

}  // namespace cl

template <typename Tag, typename Rep>
struct std::hash<cl::StrongInt<Tag, Rep>> {
  size_t operator()(cl::StrongInt<Tag, Rep> s) const noexcept { return std::hash<Rep>{}(s.value()); }
};
