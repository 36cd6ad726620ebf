// `certledger service ...` (matters, 事项) and `certledger proof ...` (无证办理).
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <sstream>
#include <toml++/toml.h>

#include "cli/commands/commands.h"

namespace cl::cli {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;

struct SvcOpts {
  std::string file, code, key, id, holder, reason;
  uint32_t version = 0;
};

// Reads a ServiceDefinition from JSON (proto3 mapping) or TOML of the same
// shape (field names as in records.proto; enums as names).
Result<v1::ServiceDefinition> LoadServiceFile(const std::string& path) {
  CL_ASSIGN_OR_RETURN(Bytes text, ReadFile(path));
  std::string json = text;
  if (path.ends_with(".toml")) {
    try {
      toml::table t = toml::parse(text, path);
      std::ostringstream ss;
      ss << toml::json_formatter{t};
      json = ss.str();
    } catch (const toml::parse_error& e) {
      return InvalidArgument(path + ": " + std::string(e.description()));
    }
  }
  v1::ServiceDefinition s;
  google::protobuf::util::JsonParseOptions jo;
  jo.ignore_unknown_fields = false;
  if (!google::protobuf::util::JsonStringToMessage(json, &s, jo).ok()) {
    return InvalidArgument(path + " is not a service definition (fields of certledger.v1.ServiceDefinition)");
  }
  if (s.code().empty()) return InvalidArgument(path + ": the service needs a code");
  return s;
}

void PrintRequirement(const v1::Requirement& r, const std::string& indent) {
  std::string what;
  if (r.has_all_of()) what = "all of:";
  if (r.has_any_of()) what = "any of:";
  if (r.has_cert()) {
    what = "certificate " + r.cert().type_code();
    if (r.cert().issuers_size()) {
      what += " from";
      for (const auto& i : r.cert().issuers()) what += " " + i;
    }
    if (r.cert().max_age_days()) what += ", at most " + std::to_string(r.cert().max_age_days()) + " days old";
    for (const auto& p : r.cert().predicates())
      what += ", " + p.name() + " " + v1::AttributePredicate::Op_Name(p.op()) + " " +
              (p.values_size() ? p.values(0) : "");
  }
  if (r.has_consent()) {
    what = "consent to";
    for (const auto& d : r.consent().data_types()) what += " " + d;
  }
  std::cout << indent << "- " << (r.label().empty() ? "" : r.label() + ": ") << what << "\n";
  const v1::RequirementList* list = r.has_all_of() ? &r.all_of() : r.has_any_of() ? &r.any_of() : nullptr;
  if (list)
    for (const auto& i : list->items()) PrintRequirement(i, indent + "    ");
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

int PrintVerdict(const Context& c, const v1::Verdict& v) {
  if (c.json()) {
    std::cout << ToJson(v) << "\n";
    return v.approved() ? kExitOk : kExitDenied;
  }
  std::cout << (v.approved() ? "APPROVED" : "DENIED") << "  request " << v.request_id() << " by " << v.requester()
            << " at height " << v.height() << " (" << FormatTime(v.time_ms()) << ")\n";
  if (v.denial() != v1::LEAF_REASON_UNSPECIFIED) std::cout << "  denial: " << v1::LeafReason_Name(v.denial()) << "\n";
  for (const v1::MatterVerdict& m : v.matters()) {
    std::cout << "  matter " << m.service_code() << " v" << m.service_version() << ": "
              << (m.approved() ? "approved" : "denied") << "\n";
    std::vector<std::vector<std::string>> rows = {{"    LEAF", "REQUIREMENT", "RESULT", "RECORD", "DETAIL"}};
    for (const v1::LeafResult& l : m.leaves())
      rows.push_back({"    " + l.path(), l.label(), l.satisfied() ? "ok" : v1::LeafReason_Name(l.reason()),
                      l.record_id().empty() ? "-" : l.record_id(), l.detail()});
    PrintTable(rows);
  }
  return v.approved() ? kExitOk : kExitDenied;
}

}  // namespace

void AddServiceCommands(CLI::App& app, Action* action) {
  CLI::App* svc = app.add_subcommand("service", "Define and read service matters (事项) and their requirement trees");
  svc->require_subcommand(1);
  {
    auto o = std::make_shared<SvcOpts>();
    CLI::App* sub = svc->add_subcommand("define", "Define a matter (or its next version) from a TOML or JSON file");
    sub->add_option("file", o->file, "definition file (.toml or .json; see docs/examples/)")->required()
        ->check(CLI::ExistingFile);
    sub->add_option("--key", o->key, "an ADMIN key of an owner department (any admin for version 1)")->required();
    sub->footer("Example:\n  certledger service define docs/examples/marriage_hukou.toml --key ASC-admin\n"
                "Exit codes: 0 committed, 2 bad file, 4 refused (e.g. wrong version or signer), 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        auto def = LoadServiceFile(o->file);
        if (!def.ok()) return Fail(def.status());
        auto r = c.SubmitNew(o->key, [&](const crypto::KeyPair&, v1::TxBody& body) {
          *body.mutable_define_service()->mutable_service() = *def;
          return Status::Ok();
        });
        if (!r.ok()) return Fail(r.status());
        return ReportCommitted(c, *r, "defined " + def->code() + " v" + std::to_string(def->version()));
      };
    });
  }
  {
    CLI::App* sub = svc->add_subcommand("list", "List the defined matters");
    sub->footer("Example:\n  certledger service list\nExit codes: 0, 3 no node answered.");
    sub->callback([action] {
      *action = [](Context& c) -> int {
        api::ServiceList list;
        if (Status s = c.GetJson("/v1/services", &list); !s.ok()) return Fail(s);
        if (c.json()) return std::cout << ToJson(list) << "\n", kExitOk;
        std::vector<std::vector<std::string>> rows = {{"CODE", "VERSION", "NAME", "OWNERS", "REQUESTERS"}};
        for (const auto& s : list.items())
          rows.push_back({s.code(), std::to_string(s.version()), s.name(), Join(s.owners()), Join(s.requesters())});
        PrintTable(rows);
        return kExitOk;
      };
    });
  }
  {
    auto o = std::make_shared<SvcOpts>();
    CLI::App* sub = svc->add_subcommand("show", "Show a matter and its requirement tree");
    sub->add_option("code", o->code, "事项编码")->required();
    sub->add_option("--version", o->version, "version (default: current)");
    sub->footer("Example:\n  certledger service show MARRIAGE_HUKOU\nExit codes: 0, 5 no such matter, 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        v1::ServiceDefinition s;
        std::string target = "/v1/services/" + o->code;
        if (o->version) target += "?version=" + std::to_string(o->version);
        if (Status st = c.GetJson(target, &s); !st.ok()) return Fail(st);
        if (c.json()) return std::cout << ToJson(s) << "\n", kExitOk;
        PrintTable({{"matter", s.code() + " " + s.name()},
                    {"version", std::to_string(s.version()) + " (defined at height " + std::to_string(s.defined_height()) + ")"},
                    {"owners", Join(s.owners())},
                    {"requesters", Join(s.requesters())},
                    {"data types", Join(s.data_types())}});
        std::cout << "requirements:\n";
        PrintRequirement(s.requirement(), "  ");
        return kExitOk;
      };
    });
  }
}

void AddProofCommands(CLI::App& app, Action* action) {
  CLI::App* proof = app.add_subcommand("proof", "Certificate-free processing (无证办理): ask the ledger for a verdict");
  proof->require_subcommand(1);
  {
    auto o = std::make_shared<SvcOpts>();
    CLI::App* sub = proof->add_subcommand("request", "Request a verdict on whether a holder satisfies a matter");
    sub->add_option("--id", o->id, "request id (client-chosen, unique)")->required();
    sub->add_option("--service", o->code, "事项编码")->required();
    sub->add_option("--holder", o->holder, kHolderHelp)->required();
    sub->add_option("--reason", o->reason, "申请事由 (required)")->required();
    sub->add_option("--key", o->key, "a SERVICE_SYSTEM or VERIFYING_CLERK key of a requesting department")->required();
    sub->footer("Example:\n  certledger proof request --id REQ-1 --service MARRIAGE_HUKOU \\\n"
                "      --holder 111:330102199001011234 --reason 婚后户口迁移窗口受理 --key ASC-service\n"
                "Exit codes: 0 APPROVED, 15 DENIED (the verdict lists why), 4 refused, 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        auto r = c.SubmitNew(o->key, [&](const crypto::KeyPair&, v1::TxBody& body) -> Status {
          CL_ASSIGN_OR_RETURN(Bytes ref, c.HolderRef(o->holder));
          v1::ProofRequest* p = body.mutable_proof_request();
          p->set_request_id(o->id);
          p->set_service_code(o->code);
          p->set_holder_ref(ref);
          p->set_reason(o->reason);
          return Status::Ok();
        });
        if (!r.ok()) return Fail(r.status());
        return PrintVerdict(c, r->receipt().verdict());
      };
    });
  }
  {
    auto o = std::make_shared<SvcOpts>();
    CLI::App* sub = proof->add_subcommand("show", "Show a recorded verdict");
    sub->add_option("id", o->id, "request id")->required();
    sub->footer("Example:\n  certledger proof show REQ-1\nExit codes: 0 APPROVED, 15 DENIED, 5 no such request, 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        v1::Verdict v;
        if (Status s = c.GetJson("/v1/proof-requests/" + o->id, &v); !s.ok()) return Fail(s);
        return PrintVerdict(c, v);
      };
    });
  }
}

}  // namespace cl::cli
