// A small certified chain shared by the cert_verify fuzz target and the
// corpus tool: the contracts fixture network (keys derived from names, so
// every process builds byte-identical blocks), three blocks anchoring,
// revoking and suspending certificates, each header signed by all three
// genesis voters. Views are built the way node/api.cc serves them.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/verify.h"
#include "crypto/digest.h"
#include "proto/api.pb.h"
#include "tests/contracts/fixture.h"

namespace cl::fuzz {

class CertWorld {
 public:
  CertWorld();

  const cli::PinnedGenesis& genesis() const { return pinned_; }
  const contracts::testing::Fixture& fixture() const { return f_; }
  // Every tx id (hex) and header hash (hex) of the chain.
  const std::set<std::string>& tx_ids() const { return tx_ids_; }
  const std::set<std::string>& header_hashes() const { return header_hashes_; }
  uint64_t height() const { return blocks_.size(); }

  // The certificate's view with ?proof=true, proven against the last header.
  // Certificates: "cert-valid" (VALID), "cert-revoked" (REVOKED),
  // "cert-suspended" (SUSPENDED).
  certledger::api::CertificateView View(const std::string& cert_id) const;
  Bytes DocHash(const std::string& cert_id) const { return f_.DocHash(cert_id); }
  // Block `h` (1-based) as GET /v1/blocks/{h} serves it, with its certificate.
  certledger::api::BlockView Block(uint64_t h) const;

 private:
  struct TxAt {
    Bytes raw;          // serialized SignedTx
    uint64_t height;
    uint64_t leaf;      // history index
  };
  contracts::testing::Fixture f_;
  cli::PinnedGenesis pinned_;
  std::vector<certledger::v1::Block> blocks_;  // [h-1]
  std::vector<crypto::Digest> leaves_;          // history leaf hashes
  std::map<std::string, std::vector<TxAt>> txs_of_;  // cert id -> anchor, changes
  std::set<std::string> tx_ids_, header_hashes_;
};

}  // namespace cl::fuzz
