// `certledger block show`, `certledger chain verify` and `certledger node ...`.
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <tuple>

#include "cli/commands/commands.h"

namespace cl::cli {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;

struct ChainOpts {
  std::string height = "latest";
  uint64_t from = 1, to = 0;
  uint64_t node_id = 0;
  std::string key;
};

}  // namespace

void AddBlockCommands(CLI::App& app, Action* action) {
  CLI::App* block = app.add_subcommand("block", "Read blocks");
  block->require_subcommand(1);
  auto o = std::make_shared<ChainOpts>();
  CLI::App* sub = block->add_subcommand("show", "Show a block's header, transactions and receipts");
  sub->add_option("height", o->height, "height or 'latest'");
  sub->footer("Example:\n  certledger block show 12\nExit codes: 0, 5 no such block, 3 no node answered.");
  sub->callback([o, action] {
    *action = [o](Context& c) -> int {
      api::BlockView b;
      if (Status s = c.GetJson("/v1/blocks/" + o->height, &b); !s.ok()) return Fail(s);
      if (c.json()) return std::cout << ToJson(b) << "\n", kExitOk;
      const v1::BlockHeader& h = b.header();
      PrintTable({{"height", std::to_string(b.height())},
                  {"hash", b.hash()},
                  {"prev hash", ToHex(h.prev_hash())},
                  {"time", FormatTime(h.time_ms())},
                  {"proposer", "node " + std::to_string(h.proposer()) + " (term " + std::to_string(h.raft_term()) + ")"},
                  {"history", std::to_string(h.history_size()) + " txs, root " + ToHex(h.history_root())},
                  {"certified", b.has_commit_certificate()
                                    ? std::to_string(b.commit_certificate().signatures_size()) + " node signatures"
                                    : std::string("not yet")}});
      std::vector<std::vector<std::string>> rows = {{"#", "TX", "PAYLOAD", "RESULT", "MESSAGE"}};
      for (int i = 0; i < b.txs_size(); ++i) {
        v1::TxBody body;
        std::string payload = "?";
        if (body.ParseFromString(b.txs(i).body()) && body.payload_case() != v1::TxBody::PAYLOAD_NOT_SET)
          payload = body.GetDescriptor()->FindFieldByNumber(body.payload_case())->name();
        rows.push_back({std::to_string(i), i < b.tx_ids_size() ? b.tx_ids(i).substr(0, 16) : "-", payload,
                        i < b.receipts_size() ? v1::ResultCode_Name(b.receipts(i).code()) : "-",
                        i < b.receipts_size() ? b.receipts(i).message() : ""});
      }
      std::cout << "\n";
      PrintTable(rows);
      return kExitOk;
    };
  });
}

void AddChainCommands(CLI::App& app, Action* action) {
  CLI::App* chain = app.add_subcommand("chain", "Audit a node's chain");
  chain->require_subcommand(1);
  auto o = std::make_shared<ChainOpts>();
  CLI::App* sub = chain->add_subcommand(
      "verify", "Audit every block: hash links, tx/result/history roots, consistency, commit certificates");
  sub->add_option("--to", o->to, "last height to audit (default: the latest)");
  sub->footer("Audits the first node that answers (use --node to pick one) against the pinned genesis.\n"
              "Example:\n  certledger chain verify --node http://127.0.0.1:8102 --genesis genesis.json\n"
              "Exit codes: 0 the chain verifies, 20 a block is bad (named), 3 no node answered, 2 no pinned genesis.");
  sub->callback([o, action] {
    *action = [o](Context& c) -> int {
      auto g = c.Genesis(true);
      if (!g.ok()) return Fail(g.status());
      api::NodeStatus st;
      if (Status s = c.GetJson("/v1/status", &st); !s.ok()) return Fail(s);
      if (st.genesis_hash() != (*g)->hash.ToHex())
        return Fail(Corruption("the node runs another genesis (" + st.genesis_hash() + ")"));
      const uint64_t to = o->to ? o->to : st.height();
      ChainAuditor audit(**g);
      for (uint64_t h = 1; h <= to; ++h) {
        api::BlockView b;
        if (Status s = c.GetJson("/v1/blocks/" + std::to_string(h), &b); !s.ok()) return Fail(s);
        if (Status s = audit.Add(b); !s.ok()) {
          if (c.json())
            std::cout << "{\"ok\":false,\"first_bad_block\":" << h << ",\"error\":\"" << s.message() << "\"}\n";
          else
            std::cout << "FAILED: " << s.message() << "\n";
          return kExitVerifyFailed;
        }
      }
      // Consistency: every audited height's history is a prefix of the last one's.
      for (uint64_t h = 1; h < to; h = h * 2) {
        api::ConsistencyProofView p;
        if (Status s = c.GetJson("/v1/proofs/consistency?from=" + std::to_string(h) + "&to=" + std::to_string(to), &p);
            !s.ok())
          return Fail(s);
        if (Status s = audit.CheckConsistency(p); !s.ok()) {
          std::cout << "FAILED: " << s.message() << "\n";
          return kExitVerifyFailed;
        }
      }
      if (c.json()) {
        std::cout << "{\"ok\":true,\"height\":" << to << ",\"txs\":" << audit.txs() << ",\"certified\":"
                  << audit.certified() << ",\"uncertified\":" << audit.uncertified() << "}\n";
      } else {
        std::cout << "OK: blocks 1.." << to << " verify (" << audit.txs() << " txs; " << audit.certified()
                  << " blocks with a commit certificate checked against genesis, " << audit.uncertified()
                  << " awaiting one)\n";
      }
      return kExitOk;
    };
  });
}

void AddNodeCommands(CLI::App& app, Action* action) {
  CLI::App* node = app.add_subcommand("node", "Node status and raft membership (operators)");
  node->require_subcommand(1);
  {
    CLI::App* sub = node->add_subcommand("status", "Status of every configured node (role, leader, term, height)");
    sub->footer("Example:\n  certledger node status\nExit codes: 0 at least one node answered, 3 none did.");
    sub->callback([action] {
      *action = [](Context& c) -> int {
        std::vector<std::vector<std::string>> rows = {
            {"URL", "NODE", "ROLE", "LEADER", "TERM", "HEIGHT", "COMMIT", "MEMPOOL", "STATE"}};
        std::string json = "[";
        int up = 0;
        for (const std::string& url : c.options().nodes) {
          auto r = client::HttpRequest(url, "GET", "/v1/status", "", "application/json", {.timeout_ms = 3000});
          api::NodeStatus st;
          if (!r.ok() || r->status != 200 || !google::protobuf::util::JsonStringToMessage(r->body, &st).ok()) {
            rows.push_back({url, "-", "-", "-", "-", "-", "-", "-", "DOWN"});
            json += std::string(json.size() > 1 ? "," : "") + "{\"url\":\"" + url + "\",\"up\":false}";
            continue;
          }
          ++up;
          rows.push_back({url, std::to_string(st.node_id()), st.role(), std::to_string(st.leader()),
                          std::to_string(st.term()), std::to_string(st.height()), std::to_string(st.commit_index()),
                          std::to_string(st.mempool_txs()), st.failure().empty() ? "up" : "FAILED: " + st.failure()});
          json += std::string(json.size() > 1 ? "," : "") + "{\"url\":\"" + url + "\",\"up\":true,\"status\":" +
                  ToJson(st) + "}";
        }
        if (c.json()) std::cout << json << "]\n";
        else PrintTable(rows);
        return up > 0 ? kExitOk : kExitUnreachable;
      };
    });
  }
  {
    // Governance set_node: puts a node's key and addresses on chain, so every
    // node accepts its peer link; raft membership is separate (node add).
    struct RegisterOpts {
      uint64_t node_id = 0;
      std::string department, node_key, public_key, peer_address, http_address, role = "learner", key;
      std::vector<std::string> cosign;
    };
    auto o = std::make_shared<RegisterOpts>();
    CLI::App* sub = node->add_subcommand(
        "register", "Register a node's key and addresses on chain (governance, m-of-n admins)");
    sub->add_option("node_id", o->node_id, "raft node id (never reused)")->required();
    sub->add_option("--department", o->department, "department that runs the node")->required();
    auto* nk = sub->add_option("--node-key", o->node_key, "the node's key (name or file): its public key is registered");
    auto* pk = sub->add_option("--public-key", o->public_key, "the node's public key (hex), instead of --node-key");
    nk->excludes(pk);
    sub->add_option("--peer-address", o->peer_address, "host:port of its peer link")->required();
    sub->add_option("--http-address", o->http_address, "host:port of its HTTP API")->required();
    sub->add_option("--role", o->role, "voter or learner (advisory; raft membership is node add/promote)")
        ->check(CLI::IsMember({"voter", "learner", "removed"}));
    sub->add_option("--key", o->key, "an ADMIN key that signs")->required();
    sub->add_option("--cosign", o->cosign, "further ADMIN keys (the genesis admin threshold counts all)");
    sub->footer(
        "Example:\n  certledger node register 4 --department HRSS --node-key node-4 \\\n"
        "      --peer-address 10.0.0.4:7100 --http-address 10.0.0.4:8080 --key PSB-admin --cosign CAB-admin\n"
        "Then start the node and: certledger node add 4 --key PSB-operator; certledger node promote 4 ...\n"
        "Exit codes: 0 committed, 4 refused (threshold not met, bad key), 3 no node answered.");
    sub->callback([o, action] {
      *action = [o](Context& c) -> int {
        v1::NodeInfo ni;
        ni.set_node_id(o->node_id);
        ni.set_department(o->department);
        if (!o->public_key.empty()) {
          auto pub = FromHex(o->public_key);
          if (!pub) return Fail(InvalidArgument("--public-key is not hex"));
          ni.set_public_key(*pub);
        } else if (!o->node_key.empty()) {
          auto k = c.LoadKey(o->node_key);
          if (!k.ok()) return Fail(k.status());
          ni.set_public_key(k->public_key);
        } else {
          return Fail(InvalidArgument("give --node-key or --public-key"));
        }
        ni.set_peer_address(o->peer_address);
        ni.set_http_address(o->http_address);
        ni.set_role(o->role == "voter"     ? v1::NodeInfo::VOTER
                    : o->role == "removed" ? v1::NodeInfo::REMOVED
                                           : v1::NodeInfo::LEARNER);
        auto key = c.LoadKey(o->key);
        if (!key.ok()) return Fail(key.status());
        std::vector<crypto::KeyPair> cosigners;
        for (const std::string& name : o->cosign) {
          auto k = c.LoadKey(name);
          if (!k.ok()) return Fail(k.status());
          cosigners.push_back(std::move(*k));
        }
        auto body = c.NewBody();
        if (!body.ok()) return Fail(body.status());
        *body->mutable_governance()->mutable_set_node() = ni;
        auto r = c.Submit(*body, *key, cosigners);
        if (!r.ok()) return Fail(r.status());
        return ReportCommitted(c, *r, "node " + std::to_string(o->node_id) + " registered");
      };
    });
  }
  const std::vector<std::tuple<std::string, std::string, std::string>> ops = {
      {"add", "add_learner", "Add a node (from genesis or governance) as a learner (non-voting replica)"},
      {"promote", "promote", "Promote a learner to a voter"},
      {"remove", "remove", "Remove a node from the raft membership"},
      {"transfer", "transfer_leader", "Transfer leadership to a node"}};
  for (const auto& [name, api_action, help] : ops) {
    auto o = std::make_shared<ChainOpts>();
    CLI::App* sub = node->add_subcommand(name, help);
    sub->add_option("node_id", o->node_id, "raft node id")->required();
    sub->add_option("--key", o->key, "an OPERATOR or ADMIN key (sent to the current leader)")->required();
    sub->footer("Example:\n  certledger node " + name + " 2 --key PSB-operator\n"
                "Exit codes: 0 done, 4 refused (not an operator, bad state), 3 no node answered.");
    const std::string act = api_action;
    sub->callback([o, action, act] {
      *action = [o, act](Context& c) -> int {
        auto key = c.LoadKey(o->key);
        if (!key.ok()) return Fail(key.status());
        api::MembershipRequest mr;
        mr.set_action(act);
        mr.set_node_id(o->node_id);
        const std::string body = ToJson(mr);
        const std::string target = "/v1/admin/membership";
        auto h = c.SignedHeaders(*key, "POST", target, &body);
        if (!h.ok()) return Fail(h.status());
        // Membership changes are made by the leader: send it there when a
        // configured node says it leads, else to the first node that answers.
        std::string leader_url;
        for (const std::string& url : c.options().nodes) {
          auto s = client::HttpRequest(url, "GET", "/v1/status", "", "application/json", {.timeout_ms = 3000});
          api::NodeStatus st;
          if (s.ok() && s->status == 200 && google::protobuf::util::JsonStringToMessage(s->body, &st).ok() &&
              st.role() == "leader") {
            leader_url = url;
            break;
          }
        }
        client::HttpRequestOptions ho = *h;
        ho.timeout_ms = c.options().timeout_ms;
        auto r = leader_url.empty() ? c.Call("POST", target, body, *h)
                                    : client::HttpRequest(leader_url, "POST", target, body, "application/json", ho);
        if (!r.ok()) return Fail(r.status());
        if (r->status != 200) {
          std::cerr << "error: HTTP " << r->status << ": " << r->body << "\n";
          return r->status >= 500 ? kExitError : kExitRejected;
        }
        if (c.json()) std::cout << r->body << "\n";
        else std::cout << act << " node " << o->node_id << ": done\n";
        return kExitOk;
      };
    });
  }
}

}  // namespace cl::cli
