#include "consensus/describe.h"

#include "consensus/confchange.h"
#include "consensus/raft_core.h"

namespace cl::consensus {

namespace {
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}
}  // namespace

std::string DescribeConfChange(const raft::ConfChange& cc) {
  std::string s;
  for (const auto& c : cc.changes()) {
    if (!s.empty()) s += ' ';
    switch (c.type()) {
      case raft::CONF_ADD_NODE: s += 'v'; break;
      case raft::CONF_ADD_LEARNER: s += 'l'; break;
      case raft::CONF_REMOVE_NODE: s += 'r'; break;
      default: s += '?'; break;
    }
    s += std::to_string(c.node_id());
  }
  if (cc.changes().empty()) s = "leave-joint";
  if (cc.transition() == raft::ConfChange::IMPLICIT) s += " (implicit)";
  if (cc.transition() == raft::ConfChange::EXPLICIT) s += " (explicit)";
  return s;
}

std::string DescribeEntry(const raft::Entry& e) {
  std::string s = std::to_string(e.term()) + "/" + std::to_string(e.index()) + " ";
  if (e.type() == raft::ENTRY_CONF_CHANGE) {
    raft::ConfChange cc;
    if (cc.ParseFromString(e.data())) return s + "EntryConfChange " + DescribeConfChange(cc);
    return s + "EntryConfChange <unparsable>";
  }
  return s + "EntryNormal " + Quote(e.data());
}

std::string DescribeEntries(const std::vector<raft::Entry>& ents) {
  std::string s;
  for (const auto& e : ents) {
    if (!s.empty()) s += ", ";
    s += DescribeEntry(e);
  }
  return s;
}

std::string DescribeSnapshot(const raft::Snapshot& snap) {
  return "Index:" + std::to_string(snap.metadata().index()) +
         " Term:" + std::to_string(snap.metadata().term()) + " ConfState:" +
         ConfStateString(snap.metadata().conf_state());
}

std::string DescribeMessage(const raft::Message& m) {
  std::string s = std::to_string(m.from()) + "->" + std::to_string(m.to()) + " " +
                  std::string(MessageTypeName(m.type())) + " Term:" + std::to_string(m.term()) +
                  " Log:" + std::to_string(m.log_term()) + "/" + std::to_string(m.index());
  if (m.reject()) s += " Rejected (Hint: " + std::to_string(m.reject_hint()) + ")";
  if (m.commit() != 0) s += " Commit:" + std::to_string(m.commit());
  if (m.entries_size() > 0) {
    s += " Entries:[" +
         DescribeEntries(std::vector<raft::Entry>(m.entries().begin(), m.entries().end())) + "]";
  }
  if (!m.context().empty()) s += " Context:" + Quote(m.context());
  if (m.type() == raft::MSG_SNAP) s += " Snapshot: " + DescribeSnapshot(m.snapshot());
  return s;
}

std::string DescribeHardState(const raft::HardState& hs) {
  return "HardState Term:" + std::to_string(hs.term()) + " Vote:" + std::to_string(hs.vote()) +
         " Commit:" + std::to_string(hs.commit());
}

std::string DescribeSoftState(const SoftState& ss) {
  return "Lead:" + std::to_string(ss.lead.value()) + " State:" + std::string(StateRoleName(ss.role));
}

std::string DescribeReady(const Ready& rd, const std::string& indent) {
  std::string s = indent + "Ready MustSync=" + (rd.must_sync ? "true" : "false") + ":\n";
  if (rd.soft_state) s += indent + DescribeSoftState(*rd.soft_state) + "\n";
  if (rd.hard_state) s += indent + DescribeHardState(*rd.hard_state) + "\n";
  if (rd.snapshot) s += indent + "Snapshot " + DescribeSnapshot(*rd.snapshot) + "\n";
  if (!rd.read_states.empty()) {
    s += indent + "ReadStates:\n";
    for (const auto& rs : rd.read_states) {
      s += indent + "  Index:" + std::to_string(rs.index.value()) + " Ctx:" +
           Quote(rs.request_ctx) + "\n";
    }
  }
  if (!rd.entries.empty()) {
    s += indent + "Entries:\n";
    for (const auto& e : rd.entries) s += indent + "  " + DescribeEntry(e) + "\n";
  }
  if (!rd.committed_entries.empty()) {
    s += indent + "CommittedEntries:\n";
    for (const auto& e : rd.committed_entries) s += indent + "  " + DescribeEntry(e) + "\n";
  }
  if (!rd.messages.empty()) {
    s += indent + "Messages:\n";
    for (const auto& m : rd.messages) s += indent + "  " + DescribeMessage(m) + "\n";
  }
  return s;
}

}  // namespace cl::consensus
