// A 32-byte digest: the output of every suite's hash (SHA-256 and SM3 alike).
#pragma once

#include <array>
#include <compare>
#include <cstring>
#include <optional>
#include <string>

#include "base/bytes.h"

namespace cl::crypto {

struct Digest {
  static constexpr size_t kSize = 32;
  std::array<unsigned char, kSize> bytes{};

  ByteView view() const { return {reinterpret_cast<const char*>(bytes.data()), kSize}; }
  Bytes ToBytes() const { return Bytes(view()); }
  std::string ToHex() const { return cl::ToHex(view()); }

  // nullopt unless `in` is exactly 32 bytes.
  static std::optional<Digest> FromBytes(ByteView in) {
    if (in.size() != kSize) return std::nullopt;
    Digest d;
    std::memcpy(d.bytes.data(), in.data(), kSize);
    return d;
  }
  static std::optional<Digest> FromHex(std::string_view hex) {
    auto raw = cl::FromHex(hex);
    if (!raw) return std::nullopt;
    return FromBytes(*raw);
  }

  friend auto operator<=>(const Digest&, const Digest&) = default;
  friend bool operator==(const Digest&, const Digest&) = default;
};

}  // namespace cl::crypto
