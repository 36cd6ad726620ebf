// Byte strings, hex, and big-endian integer encoding.
//
// Bytes are std::string (what protobuf uses for `bytes`), so records pass
// through without copies into another container; ByteView borrows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cl {

using Bytes = std::string;
using ByteView = std::string_view;

// Lower-case hex of every byte.
std::string ToHex(ByteView bytes);
// Parses hex (either case, even length); nullopt on anything else.
std::optional<Bytes> FromHex(std::string_view hex);

// Standard base64 (RFC 4648, with padding), as proto3 JSON uses for bytes.
std::string ToBase64(ByteView bytes);
std::optional<Bytes> FromBase64(std::string_view text);

// Big-endian fixed-width integers: keys built from them sort numerically.
void PutBigEndian64(Bytes* out, uint64_t v);
void PutBigEndian32(Bytes* out, uint32_t v);
Bytes BigEndian64(uint64_t v);
// Reads 8 bytes at `in`; requires in.size() >= 8.
uint64_t ReadBigEndian64(ByteView in);
uint32_t ReadBigEndian32(ByteView in);

// Compares in time independent of where the inputs differ (for MACs and secrets).
bool ConstantTimeEqual(ByteView a, ByteView b);

}  // namespace cl
