// `certledger cert ...`: anchoring, status changes, showing, and the clerk's
// main job, `cert verify FILE`.
#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/commands/commands.h"

namespace cl::cli {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;

struct CertOpts {
  std::string file, id, type, holder, number, issuer, jurisdiction = "330100", key;
  std::string issued_at, valid_from, valid_until, reason, new_id, bundle, out;
};

// The certificate view for a file (by its hash) or an id, with proofs if asked.
// Retries briefly while the newest block awaits its commit certificate.
Status FetchView(const Context& c, const CertOpts& o, bool proof, api::CertificateView* view, Bytes* doc_hash) {
  std::string target;
  if (!o.file.empty()) {
    CL_ASSIGN_OR_RETURN(const PinnedGenesis* g, c.Genesis(false));
    CL_ASSIGN_OR_RETURN(Bytes data, ReadFile(o.file));
    *doc_hash = g->suite->Hash(data).ToBytes();
    target = "/v1/certificates/" + ToHex(*doc_hash);
  } else if (!o.id.empty()) {
    target = "/v1/certificates/id/" + o.id;
  } else {
    return InvalidArgument("give a FILE or --id CERT_ID");
  }
  if (proof) target += "?proof=true";
  Status s;
  for (int attempt = 0; attempt < 20; ++attempt) {
    s = c.GetJson(target, view);
    if (s.code() != Code::kUnavailable || s.message().find("certified") == std::string::npos) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return s;
}

int ExitOf(CertVerdict v) {
  switch (v) {
    case CertVerdict::kValid: return kExitOk;
    case CertVerdict::kRevoked: return kExitRevoked;
    case CertVerdict::kSuspended: return kExitSuspended;
    case CertVerdict::kExpired: return kExitExpired;
    case CertVerdict::kSuperseded: return kExitSuperseded;
    case CertVerdict::kUnknown: return kExitUnknown;
    case CertVerdict::kFailed: return kExitVerifyFailed;
  }
  return kExitError;
}

std::string JsonStr(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '\n') { out += "\\n"; continue; }
    out += ch;
  }
  return out + "\"";
}

int PrintCheck(const Context& c, const CertCheck& r, const std::string& source) {
  const std::string verdict(CertVerdictName(r.verdict));
  if (c.json()) {
    std::cout << "{\"verdict\":" << JsonStr(r.verdict == CertVerdict::kFailed ? "FAILED" : verdict)
              << ",\"reason\":" << JsonStr(r.reason) << ",\"cert_id\":" << JsonStr(r.anchor.cert_id())
              << ",\"type_code\":" << JsonStr(r.anchor.type_code()) << ",\"issuer\":" << JsonStr(r.anchor.issuer())
              << ",\"issuer_name\":" << JsonStr(r.issuer_name) << ",\"issued_at_ms\":" << r.anchor.issued_at_ms()
              << ",\"valid_from_ms\":" << r.anchor.valid_from_ms() << ",\"valid_until_ms\":" << r.anchor.valid_until_ms()
              << ",\"checked_height\":" << r.checked_height << ",\"checked_time_ms\":" << r.checked_time_ms
              << ",\"source\":" << JsonStr(source) << "}\n";
    return ExitOf(r.verdict);
  }
  std::cout << verdict;
  if (r.verdict == CertVerdict::kFailed || r.verdict == CertVerdict::kUnknown) {
    std::cout << ": " << r.reason << "\n";
    return ExitOf(r.verdict);
  }
  std::cout << "\n";
  std::vector<std::vector<std::string>> rows = {
      {"  certificate", r.anchor.cert_id() + " (" + r.anchor.type_code() + ")"},
      {"  issued by", r.anchor.issuer() + " " + r.issuer_name},
      {"  issued at", FormatTime(r.anchor.issued_at_ms())},
      {"  valid", FormatTime(r.anchor.valid_from_ms()) + " until " +
                      (r.anchor.valid_until_ms() == 0 ? std::string("no expiry (长期)") : FormatTime(r.anchor.valid_until_ms()))},
      {"  checked at", "height " + std::to_string(r.checked_height) + " (" + FormatTime(r.checked_time_ms) + ")"},
      {"  evidence", std::to_string(1 + r.proven_changes.size()) +
                         " tx(s) proven in the history tree; commit certificate checked against the pinned genesis (" +
                         source + ")"}};
  if (!r.reason.empty()) rows.push_back({"  reason", r.reason});
  PrintTable(rows);
  return ExitOf(r.verdict);
}

void PrintRecord(const api::CertificateView& v, bool history) {
  const v1::AnchorCertificate& a = v.record().anchor();
  PrintTable({{"certificate", a.cert_id()},
              {"type", a.type_code()},
              {"status", v.status() + " (as the node reports it; use `cert verify` to check)"},
              {"issuer", a.issuer()},
              {"document hash", ToHex(a.doc_hash())},
              {"holder ref", ToHex(a.holder_ref())},
              {"issued at", FormatTime(a.issued_at_ms())},
              {"valid from", FormatTime(a.valid_from_ms())},
              {"valid until", a.valid_until_ms() == 0 ? "no expiry (长期)" : FormatTime(a.valid_until_ms())},
              {"jurisdiction", a.jurisdiction()},
              {"height", std::to_string(v.checked_height())}});
  if (!history) return;
  std::vector<std::vector<std::string>> rows = {{"EVENT", "HEIGHT", "TIME", "REASON", "TX"}};
  for (const v1::CertEvent& e : v.record().history())
    rows.push_back({v1::CertEvent::Kind_Name(e.kind()), std::to_string(e.height()), FormatTime(e.time_ms()),
                    e.reason().empty() ? "-" : e.reason(), ToHex(e.tx_id()).substr(0, 16)});
  std::cout << "\n";
  PrintTable(rows);
}

// Adds a status-change subcommand (revoke, suspend, reinstate).
void AddStatusChange(CLI::App* cert, Action* action, const std::string& name, const std::string& help,
                     const std::string& example,
                     std::function<void(v1::TxBody&, const CertOpts&)> fill) {
  auto o = std::make_shared<CertOpts>();
  CLI::App* sub = cert->add_subcommand(name, help);
  sub->add_option("cert_id", o->id, "证照标识 of the certificate")->required();
  sub->add_option("--reason", o->reason, "reason (required; no personal data)")->required();
  sub->add_option("--key", o->key, "issuing clerk's key (name or file)")->required();
  if (name == "supersede") sub->add_option("--new-id", o->new_id, "the replacing certificate's id")->required();
  sub->footer("Example:\n  " + example + "\nExit codes: 0 committed, 4 refused by the ledger, 3 no node answered.");
  sub->callback([o, action, fill, name] {
    *action = [o, fill, name](Context& c) -> int {
      auto r = c.SubmitNew(o->key, [&](const crypto::KeyPair&, v1::TxBody& body) {
        fill(body, *o);
        return Status::Ok();
      });
      if (!r.ok()) return Fail(r.status());
      return ReportCommitted(c, *r, name + " " + o->id);
    };
  });
}

}  // namespace

int ReportCommitted(const Context& c, const api::SubmitTxResponse& r, const std::string& what) {
  if (c.json()) {
    std::cout << ToJson(r) << "\n";
  } else {
    std::cout << what << ": committed at height " << r.height() << " (tx " << r.tx_id() << ")\n";
  }
  return kExitOk;
}

void AddCertCommands(CLI::App& app, Action* action) {
  CLI::App* cert = app.add_subcommand("cert", "Anchor, verify and manage certificates (电子证照)");
  cert->require_subcommand(1);

  {
    auto o = std::make_shared<CertOpts>();
    CLI::App* sub = cert->add_subcommand("anchor", "Anchor an issued certificate file (its hash and catalogue fields)");
    sub->add_option("file", o->file, "the issued file (OFD/PDF/XML); only its hash leaves this machine")->required();
    sub->add_option("--id", o->id, "证照标识 (national certificate identifier)")->required();
    sub->add_option("--type", o->type, "证照类型代码, e.g. HUKOU, MARRIAGE")->required();
    sub->add_option("--holder", o->holder, kHolderHelp)->required();
    sub->add_option("--number", o->number, "证照编号 (kept off the chain: only its keyed hash is anchored)");
    sub->add_option("--issuer", o->issuer, "issuing department (default: the key's department)");
    sub->add_option("--issued-at", o->issued_at, "签发日期 YYYY-MM-DD (default: now)");
    sub->add_option("--valid-from", o->valid_from, "有效期起始 (default: issued-at)");
    sub->add_option("--valid-until", o->valid_until, "有效期截止 (default: no expiry)");
    sub->add_option("--jurisdiction", o->jurisdiction, "管辖属地编码");
    sub->add_option("--key", o->key, "issuing clerk's key (name or file)")->required();
    sub->footer("Example:\n  certledger cert anchor hukou.pdf --id 3301-HUKOU-0001 --type HUKOU \\\n"
                "      --holder 111:330102199001011234 --key PSB-issuer\n"
                "Exit codes: 0 committed, 4 refused by the ledger (e.g. wrong issuer), 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        Bytes doc_hash;
        auto r = c.SubmitNew(o->key, [&](const crypto::KeyPair& key, v1::TxBody& body) -> Status {
          CL_ASSIGN_OR_RETURN(const PinnedGenesis* g, c.Genesis(false));
          CL_ASSIGN_OR_RETURN(Bytes data, ReadFile(o->file));
          CL_ASSIGN_OR_RETURN(Bytes ref, c.HolderRef(o->holder));
          doc_hash = g->suite->Hash(data).ToBytes();
          v1::AnchorCertificate* a = body.mutable_anchor_certificate();
          a->set_cert_id(o->id);
          a->set_doc_hash(doc_hash);
          a->set_type_code(o->type);
          if (!o->number.empty()) {
            CL_ASSIGN_OR_RETURN(Bytes n, c.NumberRef(o->number));
            a->set_number_ref(n);
          }
          a->set_holder_ref(ref);
          a->set_issuer(o->issuer.empty() ? c.DepartmentOf(key.public_key) : o->issuer);
          int64_t issued = NowMs();
          const std::pair<const std::string*, int> dates[] = {
              {&o->issued_at, 0}, {&o->valid_from, 1}, {&o->valid_until, 2}};
          for (const auto& [text, field] : dates) {
            if (text->empty()) continue;
            CL_ASSIGN_OR_RETURN(int64_t t, ParseTime(*text));
            if (field == 0) issued = t;
            if (field == 1) a->set_valid_from_ms(t);
            if (field == 2) a->set_valid_until_ms(t);
          }
          a->set_issued_at_ms(issued);
          if (o->valid_from.empty()) a->set_valid_from_ms(issued);
          a->set_jurisdiction(o->jurisdiction);
          return Status::Ok();
        });
        if (!r.ok()) return Fail(r.status());
        if (!c.json()) std::cout << "document hash " << ToHex(doc_hash) << "\n";
        return ReportCommitted(c, *r, "anchored " + o->id);
      };
    });
  }

  {
    auto o = std::make_shared<CertOpts>();
    CLI::App* sub = cert->add_subcommand(
        "verify", "Verify a certificate file without trusting the node: VALID/REVOKED/SUSPENDED/EXPIRED/SUPERSEDED/UNKNOWN");
    sub->add_option("file", o->file, "the file handed over")->required()->check(CLI::ExistingFile);
    sub->add_option("--bundle", o->bundle, "verify offline against a proof bundle saved by `cert proof`")
        ->check(CLI::ExistingFile);
    sub->footer(
        "Hashes the file locally with the network's suite, fetches the record, its inclusion proofs and the\n"
        "latest commit certificate from any node (or reads --bundle), and checks the certificate's signatures\n"
        "against the pinned genesis (--genesis FILE or --genesis-hash HEX) and every Merkle path itself.\n"
        "Example:\n  certledger cert verify marriage.pdf --genesis genesis.json\n"
        "Exit codes: 0 VALID, 10 REVOKED, 11 SUSPENDED, 12 EXPIRED (or not yet valid), 13 SUPERSEDED,\n"
        "14 UNKNOWN (no such certificate), 20 verification failed (altered file or bundle, forged\n"
        "certificate, lying node), 3 no node answered, 2 usage (e.g. no pinned genesis).");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        auto g = c.Genesis(true);
        if (!g.ok()) return Fail(g.status());
        auto data = ReadFile(o->file);
        if (!data.ok()) return Fail(data.status());
        const Bytes doc_hash = (*g)->suite->Hash(*data).ToBytes();
        api::CertificateView view;
        std::string source;
        if (!o->bundle.empty()) {
          auto b = ReadFile(o->bundle);
          if (!b.ok()) return Fail(b.status());
          google::protobuf::util::JsonParseOptions jo;
          jo.ignore_unknown_fields = true;
          if (!google::protobuf::util::JsonStringToMessage(*b, &view, jo).ok()) {
            CertCheck bad{.verdict = CertVerdict::kFailed, .reason = "the bundle is not a proof bundle"};
            return PrintCheck(c, bad, "bundle");
          }
          source = "offline bundle " + o->bundle;
        } else {
          Bytes ignored;
          Status s = FetchView(c, *o, true, &view, &ignored);
          if (s.code() == Code::kNotFound) {
            CertCheck unknown{.verdict = CertVerdict::kUnknown,
                              .reason = "no certificate with this document hash is anchored"};
            return PrintCheck(c, unknown, "node");
          }
          if (!s.ok()) {
            if (s.code() == Code::kCorruption) {
              CertCheck bad{.verdict = CertVerdict::kFailed, .reason = s.message()};
              return PrintCheck(c, bad, "node");
            }
            return Fail(s);
          }
          source = "asked a node, trusted none";
        }
        return PrintCheck(c, VerifyCertificateView(**g, doc_hash, view), source);
      };
    });
  }

  {
    auto o = std::make_shared<CertOpts>();
    CLI::App* sub = cert->add_subcommand("proof", "Save a proof bundle for a file (for offline `cert verify --bundle`)");
    sub->add_option("file", o->file, "the certificate file")->required()->check(CLI::ExistingFile);
    sub->add_option("-o,--out", o->out, "write the bundle here (default: stdout)");
    sub->footer("Example:\n  certledger cert proof marriage.pdf > bundle.json\n"
                "  certledger cert verify marriage.pdf --bundle bundle.json --genesis genesis.json\n"
                "Exit codes: 0 saved, 5 no such certificate, 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        api::CertificateView view;
        Bytes doc_hash;
        if (Status s = FetchView(c, *o, true, &view, &doc_hash); !s.ok()) return Fail(s);
        const std::string json = ToJson(view);
        if (o->out.empty()) {
          std::cout << json << "\n";
        } else {
          std::ofstream f(o->out);
          f << json << "\n";
          if (!f) return Fail(IoError("cannot write " + o->out));
          std::cerr << "saved proof bundle for " << view.record().anchor().cert_id() << " to " << o->out << "\n";
        }
        return kExitOk;
      };
    });
  }

  for (bool history : {false, true}) {
    auto o = std::make_shared<CertOpts>();
    CLI::App* sub = cert->add_subcommand(history ? "history" : "show",
                                         history ? "Show a certificate's status history (anchored, revoked, ...)"
                                                 : "Show a certificate's record as a node reports it");
    sub->add_option("file", o->file, "the certificate file (or use --id)");
    sub->add_option("--id", o->id, "证照标识 instead of a file");
    sub->footer(std::string("Example:\n  certledger cert ") + (history ? "history" : "show") +
                " --id 3301-HUKOU-0001\nExit codes: 0 found, 5 no such certificate, 3 no node answered.");
    sub->callback([o, action, history] {
      *action = [o, history](Context& c) -> int {
        api::CertificateView view;
        Bytes doc_hash;
        if (Status s = FetchView(c, *o, false, &view, &doc_hash); !s.ok()) return Fail(s);
        if (c.json()) {
          std::cout << ToJson(view) << "\n";
        } else {
          PrintRecord(view, history);
        }
        return kExitOk;
      };
    });
  }

  AddStatusChange(cert, action, "revoke", "Revoke (吊销/注销) a certificate for good",
                  "certledger cert revoke 3301-HUKOU-0001 --reason 户口迁出 --key PSB-issuer",
                  [](v1::TxBody& b, const CertOpts& o) {
                    b.mutable_revoke_certificate()->set_cert_id(o.id);
                    b.mutable_revoke_certificate()->set_reason(o.reason);
                  });
  AddStatusChange(cert, action, "suspend", "Suspend (暂扣/中止) a certificate until reinstated",
                  "certledger cert suspend 3301-HUKOU-0001 --reason 核查中 --key PSB-issuer",
                  [](v1::TxBody& b, const CertOpts& o) {
                    b.mutable_suspend_certificate()->set_cert_id(o.id);
                    b.mutable_suspend_certificate()->set_reason(o.reason);
                  });
  AddStatusChange(cert, action, "reinstate", "Reinstate a suspended certificate",
                  "certledger cert reinstate 3301-HUKOU-0001 --reason 核查完毕 --key PSB-issuer",
                  [](v1::TxBody& b, const CertOpts& o) {
                    b.mutable_reinstate_certificate()->set_cert_id(o.id);
                    b.mutable_reinstate_certificate()->set_reason(o.reason);
                  });
  AddStatusChange(cert, action, "supersede", "Replace a certificate by an already anchored newer one (换证/补证)",
                  "certledger cert supersede OLD-ID --new-id NEW-ID --reason 换证 --key PSB-issuer",
                  [](v1::TxBody& b, const CertOpts& o) {
                    b.mutable_supersede_certificate()->set_cert_id(o.id);
                    b.mutable_supersede_certificate()->set_new_cert_id(o.new_id);
                    b.mutable_supersede_certificate()->set_reason(o.reason);
                  });
}

}  // namespace cl::cli
