#include "cli/context.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <toml++/toml.h>

#include "crypto/domain.h"
#include "crypto/keyfile.h"

namespace cl::cli {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;
namespace fs = std::filesystem;

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string Resolve(const std::string& dir, const std::string& p) {
  if (p.empty() || dir.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(dir) / p).string();
}

Status FromHttp(const client::HttpResponse& r) {
  // The node's JSON error: {"code":"NOT_FOUND","message":"..."}.
  std::string msg = r.body.size() > 500 ? r.body.substr(0, 500) : r.body;
  switch (r.status) {
    case 404: return NotFound(msg);
    case 401: return Unauthenticated(msg);
    case 403: return PermissionDenied(msg);
    case 409: return AlreadyExists(msg);
    case 429: return ResourceExhausted(msg);
    case 503: return Unavailable(msg);
    default: break;
  }
  if (r.status >= 500) return Internal("HTTP " + std::to_string(r.status) + ": " + msg);
  return InvalidArgument("HTTP " + std::to_string(r.status) + ": " + msg);
}

}  // namespace

Result<Context> Context::Create(GlobalOptions flags) {
  Context c;
  c.o_ = std::move(flags);
  std::string cfg = c.o_.client_config;
  if (cfg.empty()) {
    if (const char* e = std::getenv("CERTLEDGER_CONFIG")) cfg = e;
  }
  if (cfg.empty()) {
    if (const char* home = std::getenv("HOME")) {
      const std::string def = std::string(home) + "/.config/certledger/client.toml";
      if (fs::exists(def)) cfg = def;
    }
  }
  std::vector<std::string> cfg_nodes;
  // The passphrase: --passphrase, else $CERTLEDGER_PASSPHRASE when set, else
  // the client config, else a prompt.
  if (c.o_.passphrase.empty() && std::getenv("CERTLEDGER_PASSPHRASE") != nullptr)
    c.o_.passphrase = "env:CERTLEDGER_PASSPHRASE";
  if (!cfg.empty()) {
    toml::table t;
    try {
      t = toml::parse_file(cfg);
    } catch (const toml::parse_error& e) {
      return InvalidArgument("client config " + cfg + ": " + std::string(e.description()));
    }
    c.config_dir_ = fs::absolute(cfg).parent_path().string();
    auto str = [&](const char* key) { return Resolve(c.config_dir_, t[key].value_or(std::string())); };
    if (const toml::array* a = t["nodes"].as_array())
      for (const auto& n : *a)
        if (auto s = n.value<std::string>()) cfg_nodes.push_back(*s);
    if (c.o_.genesis_file.empty() && c.o_.genesis_hash.empty()) c.o_.genesis_file = str("genesis");
    if (c.o_.genesis_hash.empty()) c.o_.genesis_hash = t["genesis_hash"].value_or(std::string());
    if (c.o_.keys_dir.empty()) c.o_.keys_dir = str("keys_dir");
    if (c.o_.network_secret.empty()) c.o_.network_secret = str("network_secret");
    if (c.o_.passphrase.empty()) {
      std::string p = t["passphrase"].value_or(std::string());
      if (p.rfind("file:", 0) == 0) p = "file:" + Resolve(c.config_dir_, p.substr(5));
      c.o_.passphrase = p;
    }
  }
  if (c.o_.nodes.empty()) {
    if (const char* e = std::getenv("CERTLEDGER_NODES")) c.o_.nodes = SplitComma(e);
  }
  if (c.o_.nodes.empty()) c.o_.nodes = cfg_nodes;
  if (c.o_.passphrase.empty()) c.o_.passphrase = "prompt";
  return c;
}

Result<client::HttpResponse> Context::Call(const std::string& method, const std::string& target,
                                           const std::string& body,
                                           const client::HttpRequestOptions& extra) const {
  if (o_.nodes.empty())
    return InvalidArgument("no node given: use --node URL, CERTLEDGER_NODES or a client config");
  client::HttpRequestOptions opts = extra;
  opts.timeout_ms = o_.timeout_ms;
  std::string errors;
  for (const std::string& url : o_.nodes) {
    auto r = client::HttpRequest(url, method, target, body, "application/json", opts);
    if (r.ok() && r->status != 503) return r;
    errors += "\n  " + url + ": " + (r.ok() ? "503 " + r->body : r.status().message());
  }
  return Unavailable("no node answered:" + errors);
}

Status Context::GetJson(const std::string& target, google::protobuf::Message* out,
                        const client::HttpRequestOptions& extra) const {
  CL_ASSIGN_OR_RETURN(client::HttpResponse r, Call("GET", target, "", extra));
  if (r.status != 200) return FromHttp(r);
  google::protobuf::util::JsonParseOptions jo;
  jo.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(r.body, out, jo).ok())
    return Corruption("the node's answer to " + target + " is not a " + out->GetTypeName());
  return Status::Ok();
}

Result<const PinnedGenesis*> Context::Genesis(bool require_pin) const {
  if (genesis_ && (pinned_ || !require_pin)) return &*genesis_;
  if (!o_.genesis_file.empty()) {
    CL_ASSIGN_OR_RETURN(Bytes bytes, ReadFile(o_.genesis_file));
    CL_ASSIGN_OR_RETURN(PinnedGenesis g, ParsePinnedGenesis(std::move(bytes)));
    if (!o_.genesis_hash.empty() && g.hash.ToHex() != o_.genesis_hash)
      return FailedPrecondition("the genesis file's hash " + g.hash.ToHex() + " is not the pinned " + o_.genesis_hash);
    genesis_ = std::move(g);
    pinned_ = true;
    return &*genesis_;
  }
  if (require_pin && o_.genesis_hash.empty())
    return InvalidArgument("verification needs a pinned genesis: --genesis FILE or --genesis-hash HEX");
  CL_ASSIGN_OR_RETURN(client::HttpResponse r, Call("GET", "/v1/genesis"));
  if (r.status != 200) return FromHttp(r);
  CL_ASSIGN_OR_RETURN(PinnedGenesis g, ParsePinnedGenesis(r.body));
  if (!o_.genesis_hash.empty()) {
    if (g.hash.ToHex() != o_.genesis_hash)
      return Corruption("the node serves a genesis with hash " + g.hash.ToHex() + ", not the pinned " + o_.genesis_hash);
    pinned_ = true;
  }
  genesis_ = std::move(g);
  return &*genesis_;
}

std::string Context::KeyPath(const std::string& n) const {
  if (n.find('/') != std::string::npos || n.ends_with(".key") || o_.keys_dir.empty()) return n;
  return (fs::path(o_.keys_dir) / (n + ".key")).string();
}

Result<crypto::KeyPair> Context::LoadKey(const std::string& name_or_path) const {
  if (name_or_path.empty()) return InvalidArgument("a signing key is required: --key NAME|FILE");
  const std::string path = KeyPath(name_or_path);
  CL_ASSIGN_OR_RETURN(crypto::KeyFileInfo info, crypto::InspectKeyFile(path));
  CL_ASSIGN_OR_RETURN(const PinnedGenesis* g, Genesis(false));
  if (info.suite != g->suite->name())
    return FailedPrecondition(path + " holds a " + info.suite + " key, but the network uses " +
                              std::string(g->suite->name()));
  CL_ASSIGN_OR_RETURN(auto suite, crypto::MakeSuite(info.suite));
  CL_ASSIGN_OR_RETURN(crypto::PassphraseSource src, crypto::ParsePassphraseSource(o_.passphrase));
  CL_ASSIGN_OR_RETURN(crypto::Passphrase pass, crypto::ReadPassphrase(src));
  return crypto::ReadKeyFile(path, *suite, pass.view());
}

Result<Bytes> Context::HolderRef(const std::string& holder) const {
  if (o_.network_secret.empty()) return InvalidArgument("holder refs need the network secret: --network-secret FILE");
  CL_ASSIGN_OR_RETURN(Bytes file, ReadFile(o_.network_secret));
  const Bytes secret = file.substr(0, file.find_first_of("\r\n"));
  std::string type = "111", code = holder;
  if (auto colon = holder.find(':'); colon != std::string::npos) {
    type = holder.substr(0, colon);
    code = holder.substr(colon + 1);
  }
  if (code.empty()) return InvalidArgument("holder must be TYPE:CODE, e.g. 111:330102199001011234");
  CL_ASSIGN_OR_RETURN(const PinnedGenesis* g, Genesis(false));
  Bytes data = type;
  data.push_back('\0');
  data += code;
  return g->suite->KeyedHash(secret, data).ToBytes();
}

Result<Bytes> Context::NumberRef(const std::string& number) const {
  if (o_.network_secret.empty()) return InvalidArgument("number refs need the network secret: --network-secret FILE");
  CL_ASSIGN_OR_RETURN(Bytes file, ReadFile(o_.network_secret));
  const Bytes secret = file.substr(0, file.find_first_of("\r\n"));
  CL_ASSIGN_OR_RETURN(const PinnedGenesis* g, Genesis(false));
  return g->suite->KeyedHash(secret, "number/" + number).ToBytes();
}

Result<v1::TxBody> Context::NewBody() const {
  CL_ASSIGN_OR_RETURN(const PinnedGenesis* g, Genesis(false));
  v1::TxBody b;
  b.set_chain_id(g->genesis.chain_id());
  std::random_device rd;
  b.set_nonce((uint64_t{rd()} << 32) | rd());
  b.set_valid_until_ms(NowMs() + 10 * 60 * 1000);
  return b;
}

Result<api::SubmitTxResponse> Context::Submit(const v1::TxBody& body, const crypto::KeyPair& key,
                                              const std::vector<crypto::KeyPair>& cosigners) const {
  CL_ASSIGN_OR_RETURN(const PinnedGenesis* g, Genesis(false));
  v1::SignedTx tx;
  tx.set_body(body.SerializeAsString());
  tx.set_signer(key.public_key);
  CL_ASSIGN_OR_RETURN(Bytes sig, g->suite->Sign(key.secret_key, crypto::TxMessage(tx.body())));
  tx.set_signature(sig);
  for (const crypto::KeyPair& co : cosigners) {
    CL_ASSIGN_OR_RETURN(Bytes cosig, g->suite->Sign(co.secret_key, crypto::TxMessage(tx.body())));
    v1::Cosignature* c = tx.add_cosignatures();
    c->set_signer(co.public_key);
    c->set_signature(cosig);
  }
  CL_ASSIGN_OR_RETURN(client::HttpResponse r,
                      Call("POST", "/v1/transactions?wait=commit&timeout_ms=" + std::to_string(o_.timeout_ms),
                           ToJson(tx)));
  if (r.status != 200 && r.status != 202) return FromHttp(r);
  api::SubmitTxResponse out;
  google::protobuf::util::JsonParseOptions jo;
  jo.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(r.body, &out, jo).ok())
    return Corruption("the node's answer is not a SubmitTxResponse");
  if (out.status() != "committed") return DeadlineExceeded("tx " + out.tx_id() + " accepted but not yet committed");
  if (out.receipt().code() != v1::OK)
    return Aborted(v1::ResultCode_Name(out.receipt().code()) + ": " + out.receipt().message() + " (tx " +
                   out.tx_id() + ")");
  return out;
}

Result<api::SubmitTxResponse> Context::SubmitNew(
    const std::string& key_name, const std::function<Status(const crypto::KeyPair&, v1::TxBody&)>& fill) const {
  CL_ASSIGN_OR_RETURN(crypto::KeyPair key, LoadKey(key_name));
  CL_ASSIGN_OR_RETURN(v1::TxBody body, NewBody());
  CL_RETURN_IF_ERROR(fill(key, body));
  return Submit(body, key);
}

Result<client::HttpRequestOptions> Context::SignedHeaders(const crypto::KeyPair& key, const std::string& method,
                                                          const std::string& target,
                                                          const std::string* body) const {
  CL_ASSIGN_OR_RETURN(const PinnedGenesis* g, Genesis(false));
  const std::string ts = std::to_string(NowMs());
  Bytes msg(crypto::kReadTag);
  msg += method + "\n" + target + "\n" + ts;
  if (body) msg += "\n" + *body;
  CL_ASSIGN_OR_RETURN(Bytes sig, g->suite->Sign(key.secret_key, msg));
  client::HttpRequestOptions o;
  o.headers = {{"X-Certledger-Signer", ToHex(key.public_key)},
               {"X-Certledger-Timestamp", ts},
               {"X-Certledger-Signature", ToHex(sig)}};
  return o;
}

std::string Context::DepartmentOf(ByteView public_key) const {
  auto g = Genesis(false);
  if (!g.ok()) return "";
  for (const v1::Member& m : (*g)->genesis.members())
    if (m.public_key() == public_key) return m.department();
  return "";
}

// ---------------------------------------------------------------- output

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions jo;
  (void)google::protobuf::util::MessageToJsonString(m, &out, jo);
  return out;
}

namespace {
// Display width: CJK characters take two columns.
size_t Width(const std::string& s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    w += len >= 3 ? 2 : 1;
    i += len;
  }
  return w;
}
}  // namespace

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], Width(r[i]));
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(widths[i] - Width(r[i]) + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string FormatTime(int64_t ms) {
  if (ms == 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

Result<int64_t> ParseTime(const std::string& s) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
  }
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end != nullptr && *end == '\0' && !s.empty()) return static_cast<int64_t>(v);
  return InvalidArgument("'" + s + "' is not a date (YYYY-MM-DD) or Unix milliseconds");
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int ExitFor(const Status& s) {
  switch (s.code()) {
    case Code::kOk: return kExitOk;
    case Code::kInvalidArgument: return kExitUsage;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded: return kExitUnreachable;
    case Code::kNotFound: return kExitNotFound;
    case Code::kAborted:
    case Code::kPermissionDenied:
    case Code::kUnauthenticated:
    case Code::kAlreadyExists:
    case Code::kResourceExhausted: return kExitRejected;
    case Code::kCorruption: return kExitVerifyFailed;
    default: return kExitError;
  }
}

int Fail(const Status& s) {
  std::cerr << "error: " << s.ToString() << "\n";
  return ExitFor(s);
}

Result<Bytes> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cl::cli
