// Deterministic protobuf encoding and typed record access for the contracts.
//
// Encode() uses deterministic serialization, so the same record always yields
// the same bytes (receipts and headers are hashed). Decoding a stored record
// that does not parse is CORRUPTION: state is never silently misread.
#pragma once

#include <google/protobuf/message_lite.h>

#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "contracts/state_view.h"

namespace cl::contracts {

Bytes Encode(const google::protobuf::MessageLite& msg);

// Reads and decodes the record at `key`; nullopt if absent.
template <typename T>
Result<std::optional<T>> GetRecord(const StateView& state, ByteView key) {
  CL_ASSIGN_OR_RETURN(std::optional<Bytes> raw, state.Get(key));
  if (!raw) return std::optional<T>();
  T rec;
  if (!rec.ParseFromString(*raw)) {
    return Corruption("state record does not decode at key " + ToHex(key));
  }
  return std::optional<T>(std::move(rec));
}

template <typename T>
Result<T> DecodeRecord(ByteView raw, ByteView key) {
  T rec;
  if (!rec.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
    return Corruption("state record does not decode at key " + ToHex(key));
  }
  return rec;
}

}  // namespace cl::contracts
