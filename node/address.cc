#include "node/address.h"

#include <charconv>

namespace cl::node {

Result<HostPort> ParseHostPort(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("address '" + std::string(text) + "': " + std::string(why) +
                           " (expected host:port)");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("missing port");
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("IPv6 addresses must be in brackets");
  }
  if (host.empty()) return bad("empty host");
  for (char c : host) {
    if (c <= ' ' || c == '/' || c == '[' || c == ']') return bad("invalid character in host");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return bad("port must be a number 0..65535");
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace cl::node
