// "host:port" network addresses, as written in configs and genesis.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cl::node {

struct HostPort {
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  uint16_t port = 0;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// Parses "host:port", "[v6]:port". The port must be 0..65535 (0: any free
// port, for listening). INVALID_ARGUMENT naming the text otherwise.
Result<HostPort> ParseHostPort(std::string_view text);

}  // namespace cl::node
