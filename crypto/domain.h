// Domain separation for signatures: every signed message starts with a tag
// naming what it is, so a signature made for one purpose is never valid for
// another. Each function returns the exact bytes to pass to Suite::Sign/Verify.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.h"

namespace cl::crypto {

inline constexpr std::string_view kTxTag{"certledger/tx/v1\0", 17};
inline constexpr std::string_view kHeaderTag{"certledger/header/v1\0", 21};
inline constexpr std::string_view kReadTag{"certledger/read/v1\0", 19};
inline constexpr std::string_view kAttrTag{"certledger/attr/v1\0", 19};

// SignedTx.signature covers TxMessage(body).
inline Bytes TxMessage(ByteView body) {
  Bytes m(kTxTag);
  m.append(body);
  return m;
}

// A node's header signature covers HeaderMessage(block hash).
inline Bytes HeaderMessage(ByteView block_hash) {
  Bytes m(kHeaderTag);
  m.append(block_hash);
  return m;
}

}  // namespace cl::crypto
