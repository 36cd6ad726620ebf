// Fuzz target: the CLI verifier (cli/verify.h), which must never trust the
// bytes a node or a saved proof bundle hands it.
//
// The world (cert_world.h) is a small chain certified by the genesis voters.
// Input: a mode byte, then
//   mode 0: a chunk (the document hash), then a CertificateView, binary;
//   mode 1: the same, the view as proof-bundle JSON (`cert verify --bundle`);
//   mode 2: BlockView chunks fed to a ChainAuditor (`chain verify`), then a
//           ConsistencyProofView chunk.
// Invariants: the fuzzer can sign nothing, so
//   - a verdict other than VERIFICATION FAILED rests only on transactions and
//     headers of the world's chain, and its anchor is for the hashed document;
//   - an audited block with a commit certificate is a block of the world's
//     chain (a header no quorum signed never passes as certified).
#include <google/protobuf/util/json_util.h>

#include <cstdint>
#include <string>

#include "base/check.h"
#include "cli/verify.h"
#include "fuzz/cert_world.h"
#include "fuzz/fuzz_util.h"
#include "proto/api.pb.h"

namespace cl::fuzz {
namespace {

namespace api = certledger::api;

const CertWorld& TheWorld() {
  static const CertWorld* w = new CertWorld();
  return *w;
}

void CheckView(const CertWorld& w, const std::string& doc_hash, const api::CertificateView& view) {
  cli::CertCheck c = cli::VerifyCertificateView(w.genesis(), doc_hash, view);
  CL_CHECK(!cli::CertVerdictName(c.verdict).empty(), "verdict has a name");
  if (c.verdict == cli::CertVerdict::kFailed) return;
  CL_CHECK(c.anchor.doc_hash() == doc_hash, "a verdict for another document");
  for (const api::TxView& tx : view.history_txs()) {
    const std::string id = w.genesis().suite->Hash(tx.tx().body()).ToHex();
    CL_CHECK(w.tx_ids().contains(id), "a verdict rests on a tx the chain never had: " + id);
    const std::string header = w.genesis().suite->Hash(tx.proof().header()).ToHex();
    CL_CHECK(w.header_hashes().contains(header), "a verdict rests on an uncertified header");
  }
}

void Audit(const CertWorld& w, Input& in) {
  cli::ChainAuditor auditor(w.genesis());
  while (in.remaining() > 2) {
    api::BlockView b;
    if (!b.ParseFromString(in.Chunk())) break;
    const bool certified = b.has_commit_certificate();
    if (!auditor.Add(b).ok()) break;
    if (certified) {
      CL_CHECK(w.header_hashes().contains(w.genesis().suite->Hash(b.header_bytes()).ToHex()),
               "an uncertified header passed the audit as certified");
    }
  }
  api::ConsistencyProofView p;
  if (p.ParseFromString(in.Chunk())) (void)auditor.CheckConsistency(p);
}

}  // namespace
}  // namespace cl::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cl::fuzz;
  const CertWorld& w = TheWorld();
  Input in(data, size);
  const uint8_t mode = in.Byte() % 3;
  if (mode == 2) {
    Audit(w, in);
    return 0;
  }
  const std::string doc_hash = in.Chunk();
  api::CertificateView view;
  if (mode == 0) {
    if (!view.ParseFromString(in.Rest())) return 0;
  } else {
    google::protobuf::util::JsonParseOptions jo;
    jo.ignore_unknown_fields = true;  // as `cert verify --bundle` reads it
    if (!google::protobuf::util::JsonStringToMessage(in.Rest(), &view, jo).ok()) return 0;
  }
  CheckView(w, doc_hash, view);
  return 0;
}
