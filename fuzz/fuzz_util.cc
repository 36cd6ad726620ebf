#include "fuzz/fuzz_util.h"

#include <google/protobuf/stubs/logging.h>

#include <algorithm>

namespace cl::fuzz {
namespace {

// Protobuf logs every string field with invalid UTF-8 it parses; for fuzzed
// bytes that is most inputs, and the logging would dominate the run time.
const bool kQuietProtobuf = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

}  // namespace

uint8_t Input::Byte() { return pos_ < size_ ? static_cast<uint8_t>(data_[pos_++]) : 0; }

uint16_t Input::U16() {
  uint16_t hi = Byte();
  return static_cast<uint16_t>((hi << 8) | Byte());
}

uint32_t Input::U32() {
  uint32_t hi = U16();
  return (hi << 16) | U16();
}

std::string Input::Chunk() {
  size_t n = std::min<size_t>(U16(), remaining());
  std::string s(data_ + pos_, n);
  pos_ += n;
  return s;
}

std::string Input::Rest() {
  std::string s(data_ + pos_, remaining());
  pos_ = size_;
  return s;
}

void AppendChunk(std::string* out, std::string_view s) {
  const size_t n = std::min<size_t>(s.size(), 0xffff);
  out->push_back(static_cast<char>(n >> 8));
  out->push_back(static_cast<char>(n & 0xff));
  out->append(s.substr(0, n));
}

}  // namespace cl::fuzz
