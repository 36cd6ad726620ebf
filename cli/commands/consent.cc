// `certledger auth ...` (consent) and `certledger holder ...`.
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <sstream>

#include "cli/commands/commands.h"
#include "crypto/keyfile.h"

namespace cl::cli {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;

struct AuthOpts {
  std::string grant_id, holder, grantee, purpose, not_before, not_after, key, reason, holder_key;
  std::vector<std::string> data_types;
  uint32_t max_uses = 0;
};

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// A signed GET of /v1/holders/{ref}/{what}.
template <typename Msg>
Status SignedHolderRead(const Context& c, const AuthOpts& o, const std::string& what, Msg* out) {
  CL_ASSIGN_OR_RETURN(Bytes ref, c.HolderRef(o.holder));
  CL_ASSIGN_OR_RETURN(crypto::KeyPair key, c.LoadKey(o.key));
  const std::string target = "/v1/holders/" + ToHex(ref) + "/" + what;
  CL_ASSIGN_OR_RETURN(client::HttpRequestOptions h, c.SignedHeaders(key, "GET", target, nullptr));
  return c.GetJson(target, out, h);
}

}  // namespace

void AddAuthCommands(CLI::App& app, Action* action) {
  CLI::App* auth = app.add_subcommand("auth", "Grant, withdraw and list data-sharing consent (授权)");
  auth->require_subcommand(1);
  {
    auto o = std::make_shared<AuthOpts>();
    CLI::App* sub = auth->add_subcommand("grant", "Consent that a department may use data types for a purpose");
    sub->add_option("--id", o->grant_id, "grant id (client-chosen, unique)")->required();
    sub->add_option("--holder", o->holder, kHolderHelp)->required();
    sub->add_option("--to", o->grantee, "grantee department code, e.g. ASC")->required();
    sub->add_option("--data", o->data_types, "data types, e.g. identity,household_register,marriage")
        ->required()->delimiter(',');
    sub->add_option("--purpose", o->purpose, "purpose (free text, no personal data)")->required();
    sub->add_option("--from", o->not_before, "in force from YYYY-MM-DD (default: now)");
    sub->add_option("--until", o->not_after, "in force until YYYY-MM-DD (default: 30 days)");
    sub->add_option("--max-uses", o->max_uses, "at most this many uses (0 = unlimited)");
    sub->add_option("--key", o->key, "the holder's (or agent's) key")->required();
    sub->footer("Example:\n  certledger auth grant --id G-1 --holder 111:330102199001011234 --to ASC \\\n"
                "      --data identity,household_register,marriage --purpose 婚后户口迁移 --key citizen.key\n"
                "Exit codes: 0 committed, 4 refused (not the holder's key), 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        auto r = c.SubmitNew(o->key, [&](const crypto::KeyPair&, v1::TxBody& body) -> Status {
          CL_ASSIGN_OR_RETURN(Bytes ref, c.HolderRef(o->holder));
          v1::GrantAuthorization* g = body.mutable_grant_authorization();
          g->set_grant_id(o->grant_id);
          g->set_holder_ref(ref);
          g->set_grantee(o->grantee);
          for (const auto& d : o->data_types) g->add_data_types(d);
          g->set_purpose(o->purpose);
          int64_t from = NowMs() - 60'000, until = NowMs() + 30LL * 86'400'000;
          if (!o->not_before.empty()) {
            CL_ASSIGN_OR_RETURN(from, ParseTime(o->not_before));
          }
          if (!o->not_after.empty()) {
            CL_ASSIGN_OR_RETURN(until, ParseTime(o->not_after));
          }
          g->set_not_before_ms(from);
          g->set_not_after_ms(until);
          g->set_max_uses(o->max_uses);
          return Status::Ok();
        });
        if (!r.ok()) return Fail(r.status());
        return ReportCommitted(c, *r, "granted " + o->grant_id + " to " + o->grantee);
      };
    });
  }
  {
    auto o = std::make_shared<AuthOpts>();
    CLI::App* sub = auth->add_subcommand("revoke", "Withdraw a consent");
    sub->add_option("grant_id", o->grant_id, "grant id")->required();
    sub->add_option("--reason", o->reason, "reason");
    sub->add_option("--key", o->key, "the holder's (or agent's) key")->required();
    sub->footer("Example:\n  certledger auth revoke G-1 --key citizen.key\nExit codes: 0 committed, 4 refused, 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        auto r = c.SubmitNew(o->key, [&](const crypto::KeyPair&, v1::TxBody& body) {
          body.mutable_revoke_authorization()->set_grant_id(o->grant_id);
          body.mutable_revoke_authorization()->set_reason(o->reason.empty() ? "withdrawn by the holder" : o->reason);
          return Status::Ok();
        });
        if (!r.ok()) return Fail(r.status());
        return ReportCommitted(c, *r, "withdrew " + o->grant_id);
      };
    });
  }
  {
    auto o = std::make_shared<AuthOpts>();
    CLI::App* sub = auth->add_subcommand("list", "List a holder's consents (a signed request)");
    sub->add_option("--holder", o->holder, kHolderHelp)->required();
    sub->add_option("--key", o->key, "the holder's key, an agent's, or a member of an authorized department")->required();
    sub->footer("Example:\n  certledger auth list --holder 111:330102199001011234 --key citizen.key\n"
                "Exit codes: 0, 4 not permitted to read, 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        api::AuthorizationList list;
        if (Status s = SignedHolderRead(c, *o, "authorizations", &list); !s.ok()) return Fail(s);
        if (c.json()) return std::cout << ToJson(list) << "\n", kExitOk;
        std::vector<std::vector<std::string>> rows = {{"GRANT", "TO", "DATA", "STATUS", "UNTIL", "USES", "PURPOSE"}};
        for (const auto& a : list.items())
          rows.push_back({a.grant().grant_id(), a.grant().grantee(), Join(a.grant().data_types()),
                          v1::AuthStatus_Name(a.status()), FormatTime(a.grant().not_after_ms()),
                          std::to_string(a.uses()), a.grant().purpose()});
        PrintTable(rows);
        return kExitOk;
      };
    });
  }
}

void AddHolderCommands(CLI::App& app, Action* action) {
  CLI::App* holder = app.add_subcommand("holder", "Register holders' keys and read who used their data");
  holder->require_subcommand(1);
  {
    auto o = std::make_shared<AuthOpts>();
    CLI::App* sub = holder->add_subcommand("register", "Bind a holder's public key after the real-name check (实名核验)");
    sub->add_option("--holder", o->holder, kHolderHelp)->required();
    sub->add_option("--holder-key", o->holder_key, "the holder's key file, or a hex public key")->required();
    sub->add_option("--key", o->key, "an identity clerk's key (identity-authority department)")->required();
    sub->footer("Example:\n  certledger holder register --holder 111:330102199001011234 --holder-key citizen.key --key PSB-identity\n"
                "Exit codes: 0 committed, 4 refused (not an identity clerk), 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        Bytes pub;
        if (auto hex = FromHex(o->holder_key); hex && hex->size() >= 32) {
          pub = *hex;
        } else {
          auto info = crypto::InspectKeyFile(c.KeyPath(o->holder_key));
          if (!info.ok()) return Fail(info.status());
          pub = info->public_key;
        }
        Bytes ref;
        auto r = c.SubmitNew(o->key, [&](const crypto::KeyPair&, v1::TxBody& body) -> Status {
          CL_ASSIGN_OR_RETURN(ref, c.HolderRef(o->holder));
          body.mutable_register_holder()->set_holder_ref(ref);
          body.mutable_register_holder()->set_public_key(pub);
          return Status::Ok();
        });
        if (!r.ok()) return Fail(r.status());
        if (!c.json()) std::cout << "holder ref " << ToHex(ref) << "\n";
        return ReportCommitted(c, *r, "registered holder key " + ToHex(pub).substr(0, 16));
      };
    });
  }
  {
    auto o = std::make_shared<AuthOpts>();
    CLI::App* sub = holder->add_subcommand("access-log", "Who used a holder's data, when, for what (a signed request)");
    sub->add_option("--holder", o->holder, kHolderHelp)->required();
    sub->add_option("--key", o->key, "the holder's key (or an agent's)")->required();
    sub->footer("Example:\n  certledger holder access-log --holder 111:330102199001011234 --key citizen.key\n"
                "Exit codes: 0, 4 not permitted to read, 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        api::AccessLog log;
        if (Status s = SignedHolderRead(c, *o, "access-log", &log); !s.ok()) return Fail(s);
        if (c.json()) return std::cout << ToJson(log) << "\n", kExitOk;
        std::vector<std::vector<std::string>> rows = {{"TIME", "DEPARTMENT", "MATTER", "REQUEST", "RESULT", "REASON"}};
        for (const auto& e : log.items())
          rows.push_back({FormatTime(e.time_ms()), e.requester(), e.service_code(), e.request_id(),
                          e.approved() ? "approved" : "denied", e.reason()});
        PrintTable(rows);
        return kExitOk;
      };
    });
  }
}

}  // namespace cl::cli
