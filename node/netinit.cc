#include "node/netinit.h"

#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "proto/records.pb.h"

namespace cl::node {
namespace {

namespace v1 = certledger::v1;
namespace fs = std::filesystem;

Status WriteFile(const fs::path& p, std::string_view data, bool secret) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  if (!out) return IoError("cannot write " + p.string());
  out << data;
  out.close();
  if (!out) return IoError("cannot write " + p.string());
  if (secret && ::chmod(p.c_str(), 0600) != 0) return IoError("cannot chmod " + p.string());
  return Status::Ok();
}

std::string RandomHex(const crypto::Suite& suite, size_t bytes) {
  // The suite's key generator is the one source of OS randomness we carry.
  Bytes out;
  while (out.size() < bytes) out += Bytes(suite.GenerateKey().public_key);
  return ToHex(ByteView(out).substr(0, bytes));
}

struct TypeSpec {
  const char* code;
  const char* name;
  v1::DocClass cls;
  const char* issuer;
  const char* data_type;
  uint32_t validity_days;
};

// Certificate types of a city, each issued by one department (kept if present).
constexpr TypeSpec kTypes[] = {
    {"ID_CARD", "居民身份证", v1::CERTIFICATE, "PSB", "identity", 0},
    {"HUKOU", "居民户口簿", v1::CERTIFICATE, "PSB", "household_register", 0},
    {"NO_CRIME", "无犯罪记录证明", v1::CERTIFICATE, "PSB", "criminal_record", 90},
    {"MARRIAGE", "结婚证", v1::CERTIFICATE, "CAB", "marriage", 0},
    {"DIVORCE", "离婚证", v1::CERTIFICATE, "CAB", "marriage", 0},
    {"SOCIAL_INS", "社保缴纳证明", v1::CERTIFICATE, "HRSS", "social_insurance", 0},
    {"HOUSE_DEED", "不动产权证书", v1::CERTIFICATE, "HOUSING", "real_estate", 0},
    {"BIRTH_MED", "出生医学证明", v1::CERTIFICATE, "HOSP", "birth", 0},
    {"MED_INVOICE", "医疗收费票据", v1::EBILL, "HOSP", "medical_billing", 0},
    {"BIZ_LICENSE", "营业执照", v1::CERTIFICATE, "AMR", "business_registration", 0},
};

const char* kRoleNames[] = {"admin", "issuer", "verifier", "service", "operator", "identity"};
const v1::Role kRoles[] = {v1::ADMIN, v1::ISSUING_CLERK, v1::VERIFYING_CLERK,
                           v1::SERVICE_SYSTEM, v1::OPERATOR, v1::IDENTITY_CLERK};

}  // namespace

std::vector<DepartmentSpec> DefaultDepartments(size_t n) {
  const std::vector<DepartmentSpec> all = {
      {"PSB", "市公安局", true},       {"CAB", "市民政局", false},
      {"ASC", "市行政服务中心", false}, {"HRSS", "市人力资源和社会保障局", false},
      {"HOUSING", "市住房和城乡建设局", false}, {"HOSP", "市第一人民医院", false},
      {"AMR", "市市场监督管理局", false},
  };
  return std::vector<DepartmentSpec>(all.begin(), all.begin() + static_cast<long>(std::min(n, all.size())));
}

Result<NetworkLayout> InitNetwork(const std::string& dir, const NetworkSpec& spec) {
  if (spec.departments.empty() || spec.departments.size() > 64)
    return InvalidArgument("a network needs 1 to 64 departments");
  if (spec.chain_id.empty()) return InvalidArgument("chain id is required");
  CL_ASSIGN_OR_RETURN(auto suite, crypto::MakeSuite(spec.suite));
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "keys", ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  if (fs::exists(fs::path(dir) / "genesis.json")) return AlreadyExists(dir + " already holds a network");
  const fs::path root = fs::absolute(dir);

  NetworkLayout layout;
  layout.dir = root.string();
  layout.chain_id = spec.chain_id;
  layout.genesis_file = (root / "genesis.json").string();
  layout.passphrase_file = (root / "passphrase").string();
  layout.secret_file = (root / "network-secret").string();
  const std::string passphrase = RandomHex(*suite, 16);
  CL_RETURN_IF_ERROR(WriteFile(layout.passphrase_file, passphrase + "\n", true));
  CL_RETURN_IF_ERROR(WriteFile(layout.secret_file, RandomHex(*suite, 32) + "\n", true));

  auto new_key = [&](const std::string& name) -> Result<Bytes> {
    crypto::KeyPair kp = suite->GenerateKey();
    CL_RETURN_IF_ERROR(crypto::WriteKeyFile((root / "keys" / (name + ".key")).string(), *suite, kp,
                                            passphrase, {.cost = spec.key_cost}));
    return kp.public_key;
  };

  v1::Genesis g;
  g.set_chain_id(spec.chain_id);
  g.set_suite(spec.suite);
  g.set_genesis_time_ms(spec.genesis_time_ms != 0
                            ? spec.genesis_time_ms
                            : std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
  std::set<std::string> codes;
  uint32_t admins = 0;
  for (const DepartmentSpec& d : spec.departments) {
    if (d.code.empty() || !codes.insert(d.code).second)
      return InvalidArgument("department codes must be unique and non-empty");
    v1::Department* dep = g.add_departments();
    dep->set_code(d.code);
    dep->set_name(d.name);
    dep->set_identity_authority(d.identity_authority);
    for (size_t r = 0; r < std::size(kRoles); ++r) {
      if (kRoles[r] == v1::IDENTITY_CLERK && !d.identity_authority) continue;
      const std::string name = d.code + "-" + kRoleNames[r];
      CL_ASSIGN_OR_RETURN(Bytes pub, new_key(name));
      v1::Member* m = g.add_members();
      m->set_public_key(pub);
      m->set_department(d.code);
      m->add_roles(kRoles[r]);
      m->set_label(name);
      if (kRoles[r] == v1::ADMIN) ++admins;
    }
  }
  g.set_admin_threshold(admins / 2 + 1);
  for (const TypeSpec& t : kTypes) {
    if (!codes.contains(t.issuer)) continue;
    v1::CertType* ct = g.add_cert_types();
    ct->set_type_code(t.code);
    ct->set_name(t.name);
    ct->set_doc_class(t.cls);
    ct->add_issuers(t.issuer);
    ct->set_default_validity_days(t.validity_days);
    ct->add_data_types(t.data_type);
  }
  const size_t node_count = spec.nodes == 0 ? spec.departments.size() : spec.nodes;
  if (node_count > spec.departments.size())
    return InvalidArgument("more nodes than departments: each node is run by a department");
  for (size_t i = 0; i < node_count; ++i) {
    const uint64_t id = i + 1;
    CL_ASSIGN_OR_RETURN(Bytes pub, new_key("node-" + std::to_string(id)));
    v1::NodeInfo* n = g.add_nodes();
    n->set_node_id(id);
    n->set_department(spec.departments[i].code);
    n->set_public_key(pub);
    const uint16_t peer_port = spec.base_peer_port == 0 ? 0 : static_cast<uint16_t>(spec.base_peer_port + i);
    const uint16_t http_port = spec.base_http_port == 0 ? 0 : static_cast<uint16_t>(spec.base_http_port + i);
    n->set_peer_address(spec.host + ":" + std::to_string(peer_port));
    n->set_http_address(spec.host + ":" + std::to_string(http_port));
    n->set_role(v1::NodeInfo::VOTER);
  }

  std::string json;
  google::protobuf::util::JsonPrintOptions jo;
  jo.add_whitespace = true;
  jo.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(g, &json, jo).ok())
    return Internal("cannot encode the genesis");
  CL_RETURN_IF_ERROR(WriteFile(layout.genesis_file, json, false));

  std::string summary = "{\n  \"chain_id\": \"" + spec.chain_id + "\",\n  \"genesis\": \"genesis.json\",\n  \"nodes\": [";
  for (const v1::NodeInfo& n : g.nodes()) {
    NodeLayout nl;
    nl.id = n.node_id();
    nl.department = n.department();
    nl.config_file = (root / ("node-" + std::to_string(nl.id) + ".toml")).string();
    nl.data_dir = (root / "data" / ("node-" + std::to_string(nl.id))).string();
    nl.http_url = "http://" + n.http_address();
    std::string toml;
    toml += "# certledger node " + std::to_string(nl.id) + " (" + n.department() + ")\n";
    toml += "node_id = " + std::to_string(nl.id) + "\n";
    toml += "department = \"" + n.department() + "\"\n";
    toml += "data_dir = \"" + nl.data_dir + "\"\n";
    toml += "genesis_file = \"" + layout.genesis_file + "\"\n\n";
    toml += "[key]\nfile = \"" + (root / "keys" / ("node-" + std::to_string(nl.id) + ".key")).string() + "\"\n";
    toml += "passphrase_file = \"" + layout.passphrase_file + "\"\n\n";
    toml += "[listen]\npeer = \"" + n.peer_address() + "\"\nhttp = \"" + n.http_address() + "\"\n\n";
    toml += "[raft]\ntick_ms = " + std::to_string(spec.tick_ms) + "\n";
    CL_RETURN_IF_ERROR(WriteFile(nl.config_file, toml, false));
    summary += std::string(nl.id == 1 ? "" : ",") + "\n    {\"id\": " + std::to_string(nl.id) +
               ", \"department\": \"" + nl.department + "\", \"url\": \"" + nl.http_url +
               "\", \"config\": \"" + nl.config_file + "\"}";
    layout.nodes.push_back(std::move(nl));
  }
  summary += "\n  ]\n}\n";
  CL_RETURN_IF_ERROR(WriteFile(root / "network.json", summary, false));
  return layout;
}

}  // namespace cl::node
