// Helpers shared by the fuzz targets: a reader that splits one fuzz input into
// typed values (like libFuzzer's FuzzedDataProvider, but ours and stable, so
// corpus files keep their meaning), and the fixed keys the targets use.
//
// Invariant violations in a target use CL_CHECK (base/check.h): it aborts, which
// libFuzzer reports as a crash and the replay test as a failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace cl::fuzz {

// Reads values front to back; past the end every read yields zeros/empty.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(reinterpret_cast<const char*>(data)), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  size_t remaining() const { return size_ - pos_; }
  uint8_t Byte();
  uint16_t U16();  // big-endian
  uint32_t U32();  // big-endian
  bool Bool() { return (Byte() & 1) != 0; }
  // A chunk: a 2-byte big-endian length, then that many bytes (clipped).
  std::string Chunk();
  // Everything not read yet.
  std::string Rest();

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Appends `s` as a Chunk (the inverse of Input::Chunk), for corpus tools.
void AppendChunk(std::string* out, std::string_view s);

}  // namespace cl::fuzz
