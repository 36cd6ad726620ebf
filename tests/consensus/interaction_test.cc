// Scripted interaction tests: each file in testdata/ is a sequence of
//
//   command arg key=value key=(1,2,3)
//   [input lines]
//   ----
//   expected output (ends at a blank line)
//
// run against an InteractionEnv. Set CL_REWRITE=1 to rewrite the expected
// outputs in place from the actual ones (then review the diff).
//
// Commands: add-nodes, campaign, propose, propose-conf-change, process-ready,
// deliver-msgs, drop-msgs, stabilize, partition, heal, tick, tick-election,
// tick-heartbeat, raft-state, raft-log, status, compact, transfer-leadership,
// read-index, forget-leader, report-unreachable, report-snapshot, restart,
// applied.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "consensus/describe.h"
#include "tests/consensus/interaction_env.h"

namespace cl::consensus::testing {
namespace {

struct Command {
  std::string name;
  std::vector<std::string> args;                 // positional
  std::map<std::string, std::string> kv;         // key=value
  std::string input;                             // lines between command and ----
};

struct Chunk {
  bool is_case = false;
  std::string raw;  // verbatim text (comments, blank lines) when !is_case
  int line = 0;
  std::string cmd_line;
  Command cmd;
  std::string expected;
};

Command ParseCommand(const std::string& line) {
  Command c;
  std::istringstream in(line);
  std::string tok;
  in >> c.name;
  while (in >> tok) {
    auto eq = tok.find('=');
    if (eq == std::string::npos) {
      c.args.push_back(tok);
    } else {
      c.kv[tok.substr(0, eq)] = tok.substr(eq + 1);
    }
  }
  return c;
}

std::vector<Chunk> ParseFile(const std::string& text) {
  std::vector<Chunk> chunks;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& l = lines[i];
    if (l.empty() || l[0] == '#') {
      Chunk c;
      c.raw = l + "\n";
      chunks.push_back(std::move(c));
      ++i;
      continue;
    }
    Chunk c;
    c.is_case = true;
    c.line = static_cast<int>(i) + 1;
    c.cmd_line = l;
    c.cmd = ParseCommand(l);
    ++i;
    while (i < lines.size() && lines[i] != "----") c.cmd.input += lines[i++] + "\n";
    ++i;  // ----
    while (i < lines.size() && !lines[i].empty()) c.expected += lines[i++] + "\n";
    chunks.push_back(std::move(c));
  }
  return chunks;
}

std::vector<uint64_t> ParseIdList(std::string s) {
  std::vector<uint64_t> out;
  for (char& ch : s) {
    if (ch == '(' || ch == ')' || ch == ',') ch = ' ';
  }
  std::istringstream in(s);
  uint64_t v;
  while (in >> v) out.push_back(v);
  return out;
}

uint64_t U(const std::string& s) { return std::stoull(s); }

bool B(const std::string& s) { return s == "true"; }

class Runner {
 public:
  std::string Run(const Command& c) {
    env_.TakeOutput();
    std::string extra = Dispatch(c);
    std::string out = env_.TakeOutput() + extra;
    if (out.empty()) out = "ok\n";
    if (out.back() != '\n') out += '\n';
    return out;
  }

 private:
  std::vector<uint64_t> Ids(const Command& c) {
    std::vector<uint64_t> ids;
    for (const auto& a : c.args) ids.push_back(U(a));
    return ids;
  }

  std::string Dispatch(const Command& c) {
    const std::string& n = c.name;
    if (n == "add-nodes") return AddNodes(c);
    if (n == "campaign") {
      env_.raw(U(c.args.at(0))).Campaign();
      return "";
    }
    if (n == "propose") {
      Status s = env_.raw(U(c.args.at(0))).Propose(c.args.size() > 1 ? c.args[1] : "");
      return s.ok() ? "" : "ERROR " + s.ToString() + "\n";
    }
    if (n == "propose-conf-change") return ProposeConfChange(c);
    if (n == "process-ready") {
      for (uint64_t id : Ids(c)) {
        if (!env_.ProcessReady(id)) env_.out() += "> " + std::to_string(id) + " has no Ready\n";
      }
      return "";
    }
    if (n == "deliver-msgs") {
      for (uint64_t id : Ids(c)) env_.Deliver(id);
      return "";
    }
    if (n == "drop-msgs") {
      const uint64_t from = c.kv.contains("from") ? U(c.kv.at("from")) : 0;
      const uint64_t to = c.kv.contains("to") ? U(c.kv.at("to")) : 0;
      env_.DropMessages(from, to);
      return "";
    }
    if (n == "stabilize") {
      env_.Stabilize(Ids(c));
      return "";
    }
    if (n == "partition") {
      std::vector<std::vector<uint64_t>> groups(1);
      for (const auto& a : c.args) {
        if (a == "/") {
          groups.emplace_back();
        } else {
          groups.back().push_back(U(a));
        }
      }
      env_.Partition(groups);
      return "";
    }
    if (n == "heal") {
      env_.Heal();
      return "";
    }
    if (n == "tick") {
      env_.Tick(U(c.args.at(0)), c.args.size() > 1 ? static_cast<int>(U(c.args[1])) : 1);
      return "";
    }
    if (n == "tick-election") {
      for (uint64_t id : Ids(c)) env_.TickElection(id);
      return "";
    }
    if (n == "tick-heartbeat") {
      for (uint64_t id : Ids(c)) env_.TickHeartbeat(id);
      return "";
    }
    if (n == "raft-state") return env_.RaftState();
    if (n == "raft-log") return env_.RaftLog(U(c.args.at(0)));
    if (n == "status") return env_.ProgressStatus(U(c.args.at(0)));
    if (n == "compact") {
      Status s = env_.Compact(U(c.args.at(0)), U(c.args.at(1)));
      if (!s.ok()) return "ERROR " + s.ToString() + "\n";
      return env_.RaftLog(U(c.args.at(0)));
    }
    if (n == "transfer-leadership") {
      env_.raw(U(c.kv.at("from"))).TransferLeader(NodeId(U(c.kv.at("to"))));
      return "";
    }
    if (n == "read-index") {
      env_.raw(U(c.args.at(0))).ReadIndex(c.args.at(1));
      return "";
    }
    if (n == "forget-leader") {
      env_.raw(U(c.args.at(0))).ForgetLeader();
      return "";
    }
    if (n == "report-unreachable") {
      env_.raw(U(c.args.at(0))).ReportUnreachable(NodeId(U(c.args.at(1))));
      return "";
    }
    if (n == "report-snapshot") {
      const bool failed = c.kv.contains("failed") && B(c.kv.at("failed"));
      env_.raw(U(c.args.at(0))).ReportSnapshot(NodeId(U(c.args.at(1))), failed);
      return "";
    }
    if (n == "restart") {
      Status s = env_.Restart(U(c.args.at(0)));
      return s.ok() ? "" : "ERROR " + s.ToString() + "\n";
    }
    if (n == "applied") {
      std::string s;
      for (const auto& e : env_.node(U(c.args.at(0))).applied) s += DescribeEntry(e) + "\n";
      return s.empty() ? "(none)\n" : s;
    }
    ADD_FAILURE() << "unknown command " << n;
    return "unknown command\n";
  }

  std::string AddNodes(const Command& c) {
    NodeOptions o;
    for (const auto& [k, v] : c.kv) {
      if (k == "voters") o.voters = ParseIdList(v);
      else if (k == "learners") o.learners = ParseIdList(v);
      else if (k == "index") o.index = U(v);
      else if (k == "check-quorum") o.check_quorum = B(v);
      else if (k == "pre-vote") o.pre_vote = B(v);
      else if (k == "read-only") o.read_only = v == "lease" ? ReadOnlyOption::kLeaseBased : ReadOnlyOption::kSafe;
      else if (k == "election") o.election_ticks = static_cast<int>(U(v));
      else if (k == "heartbeat") o.heartbeat_ticks = static_cast<int>(U(v));
      else if (k == "max-inflight") o.max_inflight_msgs = static_cast<int>(U(v));
      else if (k == "max-size") o.max_size_per_msg = U(v);
      else if (k == "max-inflight-bytes") o.max_inflight_bytes = U(v);
      else if (k == "max-uncommitted") o.max_uncommitted_entries_size = U(v);
      else ADD_FAILURE() << "unknown add-nodes option " << k;
    }
    env_.AddNodes(static_cast<int>(U(c.args.at(0))), o);
    return "";
  }

  std::string ProposeConfChange(const Command& c) {
    raft::ConfChange cc;
    if (c.kv.contains("transition")) {
      const std::string& t = c.kv.at("transition");
      cc.set_transition(t == "implicit"   ? raft::ConfChange::IMPLICIT
                        : t == "explicit" ? raft::ConfChange::EXPLICIT
                                          : raft::ConfChange::AUTO);
    }
    std::istringstream in(c.input);
    std::string tok;
    while (in >> tok) {
      raft::ConfChangeSingle* s = cc.add_changes();
      s->set_node_id(U(tok.substr(1)));
      switch (tok[0]) {
        case 'v': s->set_type(raft::CONF_ADD_NODE); break;
        case 'l': s->set_type(raft::CONF_ADD_LEARNER); break;
        case 'r': s->set_type(raft::CONF_REMOVE_NODE); break;
        default: ADD_FAILURE() << "bad conf change token " << tok;
      }
    }
    Status s = env_.raw(U(c.args.at(0))).ProposeConfChange(cc);
    return s.ok() ? "" : "ERROR " + s.ToString() + "\n";
  }

  InteractionEnv env_;
};

std::vector<std::string> TestFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(CL_RAFT_TESTDATA_DIR)) {
    if (e.path().extension() == ".txt") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class InteractionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InteractionTest, Script) {
  const std::string path = std::string(CL_RAFT_TESTDATA_DIR) + "/" + GetParam();
  std::ifstream f(path);
  ASSERT_TRUE(f) << path;
  std::stringstream buf;
  buf << f.rdbuf();
  std::vector<Chunk> chunks = ParseFile(buf.str());
  const char* rw = std::getenv("CL_REWRITE");
  const bool rewrite = rw != nullptr && std::string(rw) == "1";
  Runner runner;
  std::string rewritten;
  for (Chunk& c : chunks) {
    if (!c.is_case) {
      rewritten += c.raw;
      continue;
    }
    const std::string actual = runner.Run(c.cmd);
    if (!rewrite) {
      EXPECT_EQ(c.expected, actual) << GetParam() << ":" << c.line << ": " << c.cmd_line;
    }
    rewritten += c.cmd_line + "\n" + c.cmd.input + "----\n" + actual;
  }
  if (rewrite) {
    std::ofstream o(path);
    o << rewritten;
  }
}

INSTANTIATE_TEST_SUITE_P(Testdata, InteractionTest, ::testing::ValuesIn(TestFiles()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string name = p.param.substr(0, p.param.size() - 4);
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace cl::consensus::testing
