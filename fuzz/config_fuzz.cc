// Fuzz target: the node's configuration (node/config.h): TOML text plus
// command-line overrides, parsed and validated once.
//
// Input: a flag byte choosing which overrides are present, one chunk per
// present override (its value), then the TOML text.
// Invariants: an accepted configuration passes ValidateConfig again (the
// check is a fixed point), its HTTP and transport limits validate, and
// every override that was given is what the configuration holds.
#include <cstdint>
#include <string>

#include "base/check.h"
#include "fuzz/fuzz_util.h"
#include "node/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cl;
  fuzz::Input in(data, size);
  const uint8_t flags = in.Byte();
  node::ConfigOverrides o;
  if (flags & 1) o.node_id = in.U32();
  if (flags & 2) o.data_dir = in.Chunk();
  if (flags & 4) o.genesis_file = in.Chunk();
  if (flags & 8) o.key_file = in.Chunk();
  if (flags & 16) o.peer_listen = in.Chunk();
  if (flags & 32) o.http_listen = in.Chunk();
  if (flags & 64) o.log_level = in.Chunk();
  const std::string text = in.Rest();
  auto cfg = node::ParseConfig(text, "node.toml", o);
  if (!cfg.ok()) return 0;
  CL_CHECK(node::ValidateConfig(*cfg, "node.toml").ok(), "an accepted config does not validate");
  CL_CHECK(node::http::ValidateHttpLimits(cfg->http).ok(), "accepted HTTP limits do not validate");
  CL_CHECK(node::ValidateTransportLimits(cfg->transport).ok(), "accepted transport limits do not validate");
  CL_CHECK(!cfg->data_dir.empty() && !cfg->genesis_file.empty() && !cfg->key.file.empty() &&
               cfg->node_id.value() != 0,
           "a required setting is missing from an accepted config");
  if (o.node_id) CL_CHECK(cfg->node_id.value() == *o.node_id, "--node-id ignored");
  if (o.data_dir) CL_CHECK(cfg->data_dir == *o.data_dir, "--data-dir ignored");
  if (o.genesis_file) CL_CHECK(cfg->genesis_file == *o.genesis_file, "--genesis ignored");
  if (o.key_file) CL_CHECK(cfg->key.file == *o.key_file, "--key-file ignored");
  if (o.log_level) CL_CHECK(cfg->log_level == *o.log_level, "--log-level ignored");
  return 0;
}
