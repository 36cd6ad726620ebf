// The `certledger` CLI against a real local 3-node network: every command and
// exit code of docs/cli.md, and `cert verify` refusing a tampered file, a
// tampered proof bundle, a forged commit certificate and a lying node. The
// cases that hash, sign or verify end to end (anchoring, holder refs, signed
// reads, proofs, chain verification) run once per crypto suite (CliSuiteTest,
// the suite's name ending the test name); the others on the default suite.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <fstream>
#include <google/protobuf/util/json_util.h>

#include "crypto/suite.h"
#include "proto/api.pb.h"
#include "proto/records.pb.h"
#include "tests/cli/harness.h"
#include "tests/node/every_suite.h"

namespace cl::cli::testing {
namespace {

namespace api = certledger::api;
namespace v1 = certledger::v1;

constexpr const char* kCitizen = "111:330102199203154321";

std::string WriteFileText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

template <typename Msg>
Msg ParseJson(const std::string& json) {
  Msg m;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &m, o).ok()) << json.substr(0, 300);
  return m;
}

std::string ToJsonText(const google::protobuf::Message& m) {
  std::string s;
  (void)google::protobuf::util::MessageToJsonString(m, &s);
  return s;
}

// One network per test (each case runs in its own process under CTest).
class CliTestBase : public ::testing::Test {
 protected:
  explicit CliTestBase(const std::string& suite) : suite_(suite), net_(3, suite) {}

  void SetUp() override {
    ASSERT_TRUE(net_.init_ok()) << net_.init_output();
    ASSERT_TRUE(net_.WaitReady()) << "the network did not become ready";
  }
  CliResult Cli(std::vector<std::string> args) { return RunCli(args, net_.env()); }
  // Runs and asserts the exit code, printing the output on a mismatch.
  CliResult Expect(int code, std::vector<std::string> args) {
    CliResult r = Cli(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit, code) << "certledger " << joined << "\nstdout: " << r.out << "\nstderr: " << r.err;
    return r;
  }
  // Expect() for a read right after a write: until `code` comes (at most 10 s).
  // The node that applied the write answers 503 while its newest block still
  // gathers its commit certificate, and the client then asks the next node,
  // which may not have applied the write yet (its answer names the older
  // height it checked).
  CliResult ExpectSoon(int code, std::vector<std::string> args) {
    CliResult r;
    WaitFor([&] { return (r = Cli(args)).exit == code; }, std::chrono::seconds(10));
    return Expect(code, args);
  }
  std::string Doc(const std::string& name, const std::string& text) {
    return WriteFileText(net_.dir() + "/" + name, text);
  }
  // Anchors a document of `type` by `key`; returns its path.
  std::string Anchored(const std::string& id, const std::string& type, const std::string& key,
                       std::vector<std::string> extra = {}) {
    std::string f = Doc(id + ".xml", "<电子证照 id=\"" + id + "\" type=\"" + type + "\"/>\n");
    std::vector<std::string> args = {"cert", "anchor", f, "--id", id, "--type", type, "--holder", kCitizen,
                                     "--key", key};
    args.insert(args.end(), extra.begin(), extra.end());
    Expect(0, args);
    return f;
  }
  std::string Bundle(const std::string& file) {
    CliResult r = Expect(0, {"cert", "proof", file});
    return r.out;
  }
  int VerifyBundle(const std::string& file, const std::string& bundle_json) {
    const std::string b = WriteFileText(net_.dir() + "/bundle-" + std::to_string(bundle_n_++) + ".json", bundle_json);
    CliResult r = Cli({"--node", "http://127.0.0.1:1", "cert", "verify", file, "--bundle", b});
    last_ = r.out + r.err;
    return r.exit;
  }

  const std::string suite_;
  LocalNetwork net_;
  int bundle_n_ = 0;
  std::string last_;
};

// Cases that do not depend on the suite: the default one.
class CliTest : public CliTestBase {
 protected:
  CliTest() : CliTestBase("ed25519-sha256") {}
};

// Cases run once per suite.
class CliSuiteTest : public CliTestBase, public ::testing::WithParamInterface<std::string> {
 protected:
  CliSuiteTest() : CliTestBase(GetParam()) {}
};

TEST_F(CliTest, UsageErrorsExitTwoAndHelpHasExamples) {
  EXPECT_EQ(Cli({}).exit, 2);
  EXPECT_EQ(Cli({"cert", "anchor"}).exit, 2);
  EXPECT_EQ(Cli({"--no-such-flag", "node", "status"}).exit, 2);
  CliResult help = Cli({"cert", "verify", "--help"});
  EXPECT_EQ(help.exit, 0);
  EXPECT_NE(help.out.find("Example"), std::string::npos);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
  // verify needs a pinned genesis: without the client config it is a usage error.
  std::string f = Doc("x.txt", "x");
  EXPECT_EQ(RunCli({"--node", net_.url(1), "cert", "verify", f}).exit, 2);
}

TEST_F(CliTest, KeysGenerateShowAndNetworkInitRefusesAnExistingNetwork) {
  const std::string key = net_.dir() + "/citizen.key";
  CliResult g = RunCli({"--json", "keys", "generate", key, "--fast-kdf"}, {"CERTLEDGER_PASSPHRASE=correct horse"});
  ASSERT_EQ(g.exit, 0) << g.err;
  CliResult s = Expect(0, {"--json", "keys", "show", key});
  const std::string pub = g.out.substr(g.out.find("\"public_key\":\"") + 14, 64);
  EXPECT_NE(s.out.find(pub), std::string::npos);
  CliResult dept = Expect(0, {"keys", "show", "PSB-issuer"});
  EXPECT_NE(dept.out.find("PSB"), std::string::npos);
  Expect(5, {"keys", "show", net_.dir() + "/missing.key"});
  // A key of another suite than the network's signs nothing: refused before anything is sent.
  const std::string sm2 = net_.dir() + "/sm2.key";
  ASSERT_EQ(RunCli({"keys", "generate", sm2, "--suite", "sm2-sm3", "--fast-kdf"}, {"CERTLEDGER_PASSPHRASE=x"}).exit, 0);
  CliResult wrong = RunCli({"cert", "revoke", "X", "--reason", "x", "--key", sm2},
                           {"CERTLEDGER_CONFIG=" + net_.config(), "CERTLEDGER_PASSPHRASE=x"});
  EXPECT_EQ(wrong.exit, 1) << wrong.err;
  EXPECT_NE(wrong.err.find("holds a sm2-sm3 key, but the network uses ed25519-sha256"), std::string::npos) << wrong.err;
  // A genesis without a suite is an ed25519-sha256 one (as for the node): keys default to it.
  std::stringstream gin;
  gin << std::ifstream(net_.net() + "/genesis.json").rdbuf();
  std::string genesis = gin.str();
  const std::string suite_field = "\"suite\": \"ed25519-sha256\",";
  const size_t at = genesis.find(suite_field);
  ASSERT_NE(at, std::string::npos) << genesis.substr(0, 200);
  genesis.erase(at, suite_field.size());
  const std::string bare = WriteFileText(net_.dir() + "/genesis-no-suite.json", genesis);
  const std::string k2 = net_.dir() + "/k2.key";
  CliResult gen2 = RunCli({"--genesis", bare, "--json", "keys", "generate", k2, "--fast-kdf"}, {"CERTLEDGER_PASSPHRASE=x"});
  ASSERT_EQ(gen2.exit, 0) << gen2.err;
  EXPECT_NE(gen2.out.find("\"suite\":\"ed25519-sha256\""), std::string::npos) << gen2.out;
  Expect(1, {"network", "init", net_.net(), "-n", "3", "--fast-keys"});
}

TEST_F(CliTest, NodeStatusShowsEveryNodeAndFailsOverWhenOneIsDown) {
  CliResult st = Expect(0, {"--json", "node", "status"});
  EXPECT_EQ(std::count(st.out.begin(), st.out.end(), '{') >= 3, true);
  EXPECT_EQ(st.out.find("\"up\":false"), std::string::npos) << st.out;
  Expect(0, {"node", "status"});
  EXPECT_EQ(RunCli({"--node", "http://127.0.0.1:1", "node", "status"}).exit, 3);
  // Any command: the first URL is dead, the client moves on to the next.
  CliResult r = RunCli({"--node", "http://127.0.0.1:1", "--node", net_.url(2), "--client-config", net_.config(),
                        "service", "list"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(RunCli({"--node", "http://127.0.0.1:1", "--client-config", net_.config(), "service", "list"}).exit, 3);
}

TEST_P(CliSuiteTest, VerifyGivesEveryStatusWithItsExitCode) {
  const std::string valid = Anchored("C-VALID", "ID_CARD", "PSB-issuer");
  CliResult ok = ExpectSoon(0, {"cert", "verify", valid});
  EXPECT_NE(ok.out.find("VALID"), std::string::npos);
  EXPECT_NE(ok.out.find("市公安局"), std::string::npos);
  EXPECT_NE(ok.out.find("height"), std::string::npos);
  CliResult js = Expect(0, {"--json", "cert", "verify", valid});
  EXPECT_NE(js.out.find("\"verdict\":\"VALID\""), std::string::npos);

  const std::string revoked = Anchored("C-REV", "HUKOU", "PSB-issuer");
  Expect(0, {"cert", "revoke", "C-REV", "--reason", "户口迁出", "--key", "PSB-issuer"});
  CliResult rv = ExpectSoon(10, {"cert", "verify", revoked});
  EXPECT_NE(rv.out.find("户口迁出"), std::string::npos);

  const std::string suspended = Anchored("C-SUS", "NO_CRIME", "PSB-issuer");
  Expect(0, {"cert", "suspend", "C-SUS", "--reason", "核查中", "--key", "PSB-issuer"});
  ExpectSoon(11, {"cert", "verify", suspended});
  Expect(0, {"cert", "reinstate", "C-SUS", "--reason", "核查完毕", "--key", "PSB-issuer"});
  ExpectSoon(0, {"cert", "verify", suspended});

  const std::string expired = Anchored("C-EXP", "MARRIAGE", "CAB-issuer",
                                       {"--issued-at", "2019-01-01", "--valid-until", "2020-01-01"});
  ExpectSoon(12, {"cert", "verify", expired});

  const std::string old_one = Anchored("C-OLD", "ID_CARD", "PSB-issuer");
  Anchored("C-NEW", "ID_CARD", "PSB-issuer");
  Expect(0, {"cert", "supersede", "C-OLD", "--new-id", "C-NEW", "--reason", "换证", "--key", "PSB-issuer"});
  ExpectSoon(13, {"cert", "verify", old_one});

  Expect(14, {"cert", "verify", Doc("never-anchored.pdf", "not on the ledger")});
}

TEST_F(CliTest, LedgerRefusalsExitFour) {
  const std::string f = Doc("hukou.xml", "hukou");
  // CAB may not issue household registers; a verifier may not anchor at all.
  Expect(4, {"cert", "anchor", f, "--id", "H-1", "--type", "HUKOU", "--holder", kCitizen, "--key", "CAB-issuer"});
  Expect(4, {"cert", "anchor", f, "--id", "H-1", "--type", "HUKOU", "--holder", kCitizen, "--key", "PSB-verifier"});
  Expect(4, {"cert", "revoke", "NO-SUCH", "--reason", "x", "--key", "PSB-issuer"});
  Expect(4, {"node", "add", "9", "--key", "PSB-issuer"});  // not an operator
}

TEST_P(CliSuiteTest, ShowHistoryBlockAndChainVerify) {
  const std::string f = Anchored("C-SHOW", "HUKOU", "PSB-issuer");
  Expect(0, {"cert", "suspend", "C-SHOW", "--reason", "核查中", "--key", "PSB-issuer"});
  CliResult show = Expect(0, {"cert", "show", f});
  EXPECT_NE(show.out.find("C-SHOW"), std::string::npos);
  CliResult hist = Expect(0, {"cert", "history", "--id", "C-SHOW"});
  EXPECT_NE(hist.out.find("SUSPENDED"), std::string::npos);
  EXPECT_NE(hist.out.find("ANCHORED"), std::string::npos);
  CliResult js = Expect(0, {"--json", "cert", "show", "--id", "C-SHOW"});
  EXPECT_EQ(ParseJson<api::CertificateView>(js.out).record().anchor().cert_id(), "C-SHOW");
  Expect(5, {"cert", "show", "--id", "NO-SUCH"});

  CliResult b = Expect(0, {"block", "show", "latest"});
  EXPECT_NE(b.out.find("suspend_certificate"), std::string::npos) << b.out;
  Expect(0, {"--json", "block", "show", "1"});
  Expect(5, {"block", "show", "999999"});

  CliResult cv = Expect(0, {"chain", "verify"});
  EXPECT_NE(cv.out.find("OK"), std::string::npos);
  Expect(0, {"--json", "--node", net_.url(3), "chain", "verify"});
}

TEST_P(CliSuiteTest, ChainVerifyNamesTheFirstBadBlock) {
  Anchored("C-A", "ID_CARD", "PSB-issuer");
  Anchored("C-B", "ID_CARD", "PSB-issuer");
  // Find the block that anchored C-B, then serve it with its tx altered.
  CliResult shown = Expect(0, {"--json", "cert", "show", "--id", "C-B"});
  const uint64_t h = ParseJson<api::CertificateView>(shown.out).record().history(0).height();
  FakeNode liar(net_.url(1), [h](const std::string& target, std::string* body) {
    if (target != "/v1/blocks/" + std::to_string(h)) return;
    api::BlockView b = ParseJson<api::BlockView>(*body);
    v1::TxBody tb;
    ASSERT_TRUE(tb.ParseFromString(b.txs(0).body()));
    tb.mutable_anchor_certificate()->set_cert_id("C-FORGED");
    b.mutable_txs(0)->set_body(tb.SerializeAsString());
    *body = ToJsonText(b);
  });
  CliResult r = RunCli({"--client-config", net_.config(), "--node", liar.url(), "chain", "verify"});
  EXPECT_EQ(r.exit, 20) << r.out << r.err;
  EXPECT_NE(r.out.find("block " + std::to_string(h) + ":"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tx_root"), std::string::npos) << r.out;
}

TEST_P(CliSuiteTest, ConsentAndCertificateFreeProcessing) {
  const std::string key = net_.dir() + "/citizen.key";
  const std::string pass = "CERTLEDGER_PASSPHRASE=walkthrough-citizen";
  std::vector<std::string> env = net_.env();
  env.push_back(pass);
  // Without --suite, a key is made for the suite of the pinned genesis.
  ASSERT_EQ(RunCli({"keys", "generate", key, "--fast-kdf"}, env).exit, 0);
  EXPECT_NE(Expect(0, {"--json", "keys", "show", key}).out.find("\"suite\":\"" + suite_ + "\""), std::string::npos);
  Expect(0, {"holder", "register", "--holder", kCitizen, "--holder-key", key, "--key", "PSB-identity"});
  Expect(4, {"holder", "register", "--holder", kCitizen, "--holder-key", key, "--key", "CAB-issuer"});
  Anchored("L-ID", "ID_CARD", "PSB-issuer");
  Anchored("L-HK", "HUKOU", "PSB-issuer");
  Anchored("L-MAR", "MARRIAGE", "CAB-issuer");
  const std::string examples = std::string(CERTLEDGER_SOURCE_DIR) + "/cli/examples/";
  Expect(0, {"service", "define", examples + "marriage_hukou.toml", "--key", "ASC-admin"});
  Expect(4, {"service", "define", examples + "marriage_hukou.json", "--key", "ASC-admin"});  // v1 exists
  Expect(2, {"service", "define", Doc("bad.toml", "code = \"X\"\nno_such_field = 1\n"), "--key", "ASC-admin"});
  Expect(0, {"service", "define", examples + "no_crime_check.toml", "--key", "ASC-admin"});
  CliResult list = Expect(0, {"service", "list"});
  EXPECT_NE(list.out.find("MARRIAGE_HUKOU"), std::string::npos);
  EXPECT_NE(list.out.find("NO_CRIME_CHECK"), std::string::npos);
  CliResult show = Expect(0, {"service", "show", "MARRIAGE_HUKOU"});
  EXPECT_NE(show.out.find("consent to identity household_register marriage"), std::string::npos) << show.out;
  Expect(5, {"service", "show", "NO_SUCH"});

  // Without consent the request is denied.
  CliResult denied = Expect(15, {"proof", "request", "--id", "R-0", "--service", "MARRIAGE_HUKOU", "--holder", kCitizen,
                                 "--reason", "窗口受理", "--key", "ASC-service"});
  EXPECT_NE(denied.out.find("NO_CONSENT"), std::string::npos) << denied.out;
  auto citizen = [&](std::vector<std::string> args) { return RunCli(args, env); };
  ASSERT_EQ(citizen({"auth", "grant", "--id", "G-1", "--holder", kCitizen, "--to", "ASC", "--data",
                     "identity,household_register,marriage", "--purpose", "婚后户口迁移", "--key", key})
                .exit,
            0);
  CliResult grants = citizen({"auth", "list", "--holder", kCitizen, "--key", key});
  EXPECT_EQ(grants.exit, 0) << grants.err;
  EXPECT_NE(grants.out.find("G-1"), std::string::npos);
  Expect(4, {"auth", "list", "--holder", kCitizen, "--key", "CAB-verifier"});  // CAB holds no grant

  Expect(0, {"proof", "request", "--id", "R-1", "--service", "MARRIAGE_HUKOU", "--holder", kCitizen, "--reason",
             "窗口受理", "--key", "ASC-service"});
  Expect(0, {"proof", "show", "R-1"});
  Expect(5, {"proof", "show", "R-NONE"});
  Expect(4, {"proof", "request", "--id", "R-X", "--service", "MARRIAGE_HUKOU", "--holder", kCitizen, "--reason",
             "x", "--key", "ASC-issuer"});  // an issuing clerk may not request

  Expect(0, {"cert", "revoke", "L-MAR", "--reason", "婚姻登记被依法撤销", "--key", "CAB-issuer"});
  CliResult after = Expect(15, {"proof", "request", "--id", "R-2", "--service", "MARRIAGE_HUKOU", "--holder", kCitizen,
                                "--reason", "再次受理", "--key", "ASC-service"});
  EXPECT_NE(after.out.find("CERT_REVOKED"), std::string::npos) << after.out;
  Expect(15, {"proof", "show", "R-2"});

  CliResult log = citizen({"holder", "access-log", "--holder", kCitizen, "--key", key});
  EXPECT_EQ(log.exit, 0) << log.err;
  EXPECT_NE(log.out.find("R-1"), std::string::npos);
  EXPECT_NE(log.out.find("R-2"), std::string::npos);
  EXPECT_EQ(citizen({"auth", "revoke", "G-1", "--key", key}).exit, 0);
  CliResult withdrawn = citizen({"auth", "list", "--holder", kCitizen, "--key", key});
  EXPECT_NE(withdrawn.out.find("WITHDRAWN"), std::string::npos);
}

TEST_P(CliSuiteTest, VerifyRefusesATamperedFile) {
  const std::string f = Anchored("T-1", "ID_CARD", "PSB-issuer");
  const std::string bundle = Bundle(f);
  EXPECT_EQ(VerifyBundle(f, bundle), 0) << last_;
  const std::string altered = Doc("T-1-altered.xml", "<电子证照 id=\"T-1\" type=\"ID_CARD\" altered/>\n");
  Expect(14, {"cert", "verify", altered});          // no such document on the ledger
  EXPECT_EQ(VerifyBundle(altered, bundle), 20) << last_;  // the bundle is for another document
}

TEST_P(CliSuiteTest, VerifyRefusesATamperedBundle) {
  const std::string f = Anchored("B-1", "ID_CARD", "PSB-issuer");
  Anchored("B-2", "ID_CARD", "PSB-issuer");  // a longer history: non-empty paths
  const api::CertificateView good = ParseJson<api::CertificateView>(Bundle(f));
  ASSERT_EQ(VerifyBundle(f, ToJsonText(good)), 0) << last_;
  struct Case {
    const char* name;
    std::function<void(api::CertificateView&)> tamper;
  };
  const std::vector<Case> cases = {
      {"path element changed",
       [](api::CertificateView& v) {
         auto* p = v.mutable_history_txs(0)->mutable_proof();
         if (p->path_size() == 0) p->add_path(std::string(64, '0'));
         else p->set_path(0, std::string(64, 'f'));
       }},
      {"leaf index changed", [](api::CertificateView& v) {
         auto* p = v.mutable_history_txs(0)->mutable_proof();
         p->set_leaf_index(p->leaf_index() + 1);
       }},
      {"anchored dates changed", [](api::CertificateView& v) {
         v1::TxBody b;
         (void)b.ParseFromString(v.history_txs(0).tx().body());
         b.mutable_anchor_certificate()->set_valid_until_ms(4102444800000);
         v.mutable_history_txs(0)->mutable_tx()->set_body(b.SerializeAsString());
       }},
      {"header swapped for another", [](api::CertificateView& v) {
         v1::BlockHeader h;
         (void)h.ParseFromString(v.history_txs(0).proof().header());
         h.set_time_ms(h.time_ms() + 1);
         v.mutable_history_txs(0)->mutable_proof()->set_header(h.SerializeAsString());
       }},
      {"revocation dropped from the record's status", [](api::CertificateView& v) {
         v.mutable_record()->set_status(v1::REVOKED);
       }},
      {"proofs removed", [](api::CertificateView& v) { v.clear_history_txs(); }},
  };
  for (const Case& c : cases) {
    api::CertificateView v = good;
    c.tamper(v);
    EXPECT_EQ(VerifyBundle(f, ToJsonText(v)), 20) << c.name << ": " << last_;
  }
  EXPECT_EQ(VerifyBundle(f, "{not json"), 20);
}

TEST_P(CliSuiteTest, VerifyRefusesAForgedCommitCertificate) {
  const std::string f = Anchored("F-1", "ID_CARD", "PSB-issuer");
  const api::CertificateView good = ParseJson<api::CertificateView>(Bundle(f));
  struct Case {
    const char* name;
    std::function<void(v1::CommitCertificate&)> forge;
  };
  const std::vector<Case> cases = {
      {"signature bytes flipped",
       [](v1::CommitCertificate& c) {
         for (auto& s : *c.mutable_signatures()) s.mutable_signature()->at(0) ^= 1;
       }},
      {"below quorum", [](v1::CommitCertificate& c) {
         while (c.signatures_size() > 1) c.mutable_signatures()->RemoveLast();
       }},
      {"one signature counted twice", [](v1::CommitCertificate& c) {
         while (c.signatures_size() > 1) c.mutable_signatures()->RemoveLast();
         *c.add_signatures() = c.signatures(0);
       }},
      {"signed by an unknown node", [](v1::CommitCertificate& c) {
         for (auto& s : *c.mutable_signatures()) s.set_node_id(s.node_id() + 10);
       }},
  };
  for (const Case& c : cases) {
    api::CertificateView v = good;
    v1::CommitCertificate cert;
    ASSERT_TRUE(cert.ParseFromString(v.history_txs(0).proof().commit_certificate()));
    c.forge(cert);
    v.mutable_history_txs(0)->mutable_proof()->set_commit_certificate(cert.SerializeAsString());
    EXPECT_EQ(VerifyBundle(f, ToJsonText(v)), 20) << c.name << ": " << last_;
  }
  // A whole other network's valid certificate is not valid for this genesis.
  LocalNetwork other(1, suite_);
  ASSERT_TRUE(other.init_ok());
  ASSERT_TRUE(other.WaitReady());
  CliResult r = RunCli({"--client-config", other.config(), "--node", "http://127.0.0.1:1", "cert", "verify", f,
                        "--bundle", WriteFileText(net_.dir() + "/good.json", ToJsonText(good))});
  EXPECT_EQ(r.exit, 20) << r.out << r.err;
}

TEST_P(CliSuiteTest, VerifyRefusesALyingNode) {
  const std::string f = Anchored("N-1", "ID_CARD", "PSB-issuer");
  const std::string other = Anchored("N-2", "HUKOU", "PSB-issuer");
  const std::string revoked = Anchored("N-3", "HUKOU", "PSB-issuer");
  Expect(0, {"cert", "revoke", "N-3", "--reason", "注销", "--key", "PSB-issuer"});
  const std::string other_view = Bundle(other);
  struct Case {
    const char* name;
    std::string file;
    FakeNode::Rewrite rewrite;
  };
  const std::vector<Case> cases = {
      {"serves another certificate's proof", f,
       [other_view](const std::string& t, std::string* body) {
         if (t.rfind("/v1/certificates/", 0) == 0) *body = other_view;
       }},
      {"serves a wrong Merkle path", f,
       [](const std::string& t, std::string* body) {
         if (t.rfind("/v1/certificates/", 0) != 0) return;
         auto v = ParseJson<api::CertificateView>(*body);
         auto* p = v.mutable_history_txs(0)->mutable_proof();
         p->add_path(std::string(64, 'a'));
         *body = ToJsonText(v);
       }},
      {"claims a revoked certificate is valid", revoked,
       [](const std::string& t, std::string* body) {
         if (t.rfind("/v1/certificates/", 0) != 0) return;
         auto v = ParseJson<api::CertificateView>(*body);
         v.mutable_record()->set_status(v1::VALID);
         v.set_status("VALID");
         *body = ToJsonText(v);
       }},
      {"serves a forged record with a proof of another tx", f,
       [](const std::string& t, std::string* body) {
         if (t.rfind("/v1/certificates/", 0) != 0) return;
         auto v = ParseJson<api::CertificateView>(*body);
         v1::TxBody b;
         (void)b.ParseFromString(v.history_txs(0).tx().body());
         b.mutable_anchor_certificate()->set_issuer("CAB");
         v.mutable_history_txs(0)->mutable_tx()->set_body(b.SerializeAsString());
         *body = ToJsonText(v);
       }},
  };
  for (const Case& c : cases) {
    FakeNode liar(net_.url(1), c.rewrite);
    CliResult r = RunCli({"--client-config", net_.config(), "--node", liar.url(), "cert", "verify", c.file});
    EXPECT_EQ(r.exit, 20) << c.name << ": " << r.out << r.err;
  }
  // An honest pass-through node is believed.
  FakeNode honest(net_.url(1), [](const std::string&, std::string*) {});
  EXPECT_EQ(RunCli({"--client-config", net_.config(), "--node", honest.url(), "cert", "verify", f}).exit, 0);
}

TEST_F(CliTest, MembershipTransferAndTheNetworkSurvivesTheLeader) {
  CliResult st = Expect(0, {"--json", "node", "status"});
  const size_t at = st.out.find("\"leader\":\"");
  ASSERT_NE(at, std::string::npos) << st.out;
  const int leader = std::stoi(st.out.substr(at + 10));
  const int target = leader == 1 ? 2 : 1;
  Expect(0, {"node", "transfer", std::to_string(target), "--key", "PSB-operator"});
  ASSERT_TRUE(WaitFor([&] { return Cli({"--json", "node", "status"}).out.find("\"leader\":\"" + std::to_string(target) + "\"") != std::string::npos; },
                      std::chrono::seconds(10)));
  // Kill the new leader; the other two go on, and the client fails over.
  net_.Stop(target, SIGKILL);
  const std::string f = Doc("after.xml", "anchored after the leader died");
  ASSERT_TRUE(WaitFor([&] {
    const std::string out = Cli({"--json", "node", "status"}).out;
    for (int i = 1; i <= 3; ++i)
      if (i != target && out.find("\"leader\":\"" + std::to_string(i) + "\"") != std::string::npos) return true;
    return false;
  }, std::chrono::seconds(15))) << "no new leader";
  Expect(0, {"cert", "anchor", f, "--id", "AFTER-1", "--type", "ID_CARD", "--holder", kCitizen, "--key",
             "PSB-issuer"});
  ExpectSoon(0, {"cert", "verify", f});
  CliResult down = Expect(0, {"node", "status"});
  EXPECT_NE(down.out.find("DOWN"), std::string::npos);
  // Remove the dead node from the membership, then add it back as a learner and promote it.
  Expect(0, {"node", "remove", std::to_string(target), "--key", "PSB-operator"});
  Expect(4, {"node", "promote", std::to_string(target), "--key", "CAB-verifier"});
  for (int i = 1; i <= 3; ++i)
    if (i != target) {
      EXPECT_EQ(net_.Stop(i, SIGTERM), 0) << "node " << i << " did not exit cleanly";
    }
}

// A node outside the genesis: `node register` puts its key and addresses on
// chain (two admins: the threshold of a 3-department network), the daemon
// starts with the genesis and its own key, `node add` makes it a learner that
// catches up, `node promote` a voter.
TEST_F(CliTest, NodeRegisteredByGovernanceJoinsAndIsPromoted) {
  std::string pass;
  {
    std::ifstream in(net_.net() + "/passphrase");
    std::getline(in, pass);
  }
  std::vector<std::string> env = net_.env();
  env.push_back("CERTLEDGER_PASSPHRASE=" + pass);
  CliResult gen = RunCli({"keys", "generate", "--fast-kdf", net_.net() + "/keys/node-4.key"}, env);
  ASSERT_EQ(gen.exit, 0) << gen.err;
  const uint16_t base = FreeBase(1);
  ASSERT_NE(base, 0);
  const std::string peer = "127.0.0.1:" + std::to_string(base), http = "127.0.0.1:" + std::to_string(base + 100);
  // node-4.toml: node 3's with its id, key, data directory and ports.
  std::string cfg;
  {
    std::ifstream in(net_.net() + "/node-3.toml");
    std::stringstream ss;
    ss << in.rdbuf();
    cfg = ss.str();
  }
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (size_t at = cfg.find(from); at != std::string::npos; at = cfg.find(from, at + to.size()))
      cfg.replace(at, from.size(), to);
  };
  replace_all("node_id = 3", "node_id = 4");
  replace_all("node-3", "node-4");
  replace_all("127.0.0.1:" + std::to_string(net_.peer_port(3)), peer);
  replace_all(net_.url(3).substr(7), http);
  ASSERT_NE(cfg.find(peer), std::string::npos) << cfg;
  std::ofstream(net_.net() + "/node-4.toml") << cfg;

  Expect(4, {"node", "register", "4", "--department", "PSB", "--node-key", "node-4", "--peer-address", peer,
             "--http-address", http, "--key", "PSB-admin"});  // one admin is below the threshold
  Expect(0, {"node", "register", "4", "--department", "PSB", "--node-key", "node-4", "--peer-address", peer,
             "--http-address", http, "--key", "PSB-admin", "--cosign", "CAB-admin"});
  net_.Start(4);
  auto status = [&](const std::string& url) {
    api::NodeStatus st;
    auto r = client::HttpRequest(url, "GET", "/v1/status", "", "application/json", {.timeout_ms = 2000});
    if (r.ok() && r->status == 200) (void)google::protobuf::util::JsonStringToMessage(r->body, &st);
    return st;
  };
  Expect(0, {"node", "add", "4", "--key", "PSB-operator"});
  ASSERT_TRUE(WaitFor([&] {
    const api::NodeStatus s4 = status("http://" + http), s1 = status(net_.url(1));
    return s4.height() > 0 && s4.height() == s1.height() && s4.commit_index() == s1.commit_index();
  }, std::chrono::seconds(20))) << "node 4 did not catch up";
  Expect(0, {"node", "promote", "4", "--key", "PSB-operator"});
  ASSERT_TRUE(WaitFor([&] { return status("http://" + http).voters_size() == 4; }, std::chrono::seconds(10)));
  // It applies what comes next like the others.
  const std::string f = Doc("joined.xml", "anchored with four voters");
  Expect(0, {"cert", "anchor", f, "--id", "JOIN-1", "--type", "ID_CARD", "--holder", kCitizen, "--key",
             "PSB-issuer"});
  EXPECT_TRUE(WaitFor([&] { return status("http://" + http).height() == status(net_.url(1)).height(); },
                      std::chrono::seconds(10)));
  EXPECT_EQ(net_.Stop(4, SIGTERM), 0) << "node 4 did not exit cleanly";
}

// `certledger-node --dev --suite sm2-sm3`: a one-node 国密 network to try out;
// --suite elsewhere, or an unknown suite, is a usage error (exit 2).
TEST(NodeDevTest, DevNetworkOnEitherSuiteAndSuiteMisuseExitsTwo) {
  auto run_node = [](const std::vector<std::string>& args, bool wait) {
    const pid_t pid = SpawnBinary("certledger-node", args, "/dev/null", "/dev/null");
    return wait ? WaitExit(pid) : static_cast<int>(pid);
  };
  EXPECT_EQ(run_node({"--suite", "sm2-sm3"}, true), 2);
  EXPECT_EQ(run_node({"--dev", "--suite", "rsa"}, true), 2);
  for (const std::string suite : {"ed25519-sha256", "sm2-sm3"}) {
    SCOPED_TRACE(suite);
    const auto dir = std::filesystem::temp_directory_path() / ("cl-dev-" + std::to_string(::getpid()) + suite);
    const uint16_t port = FreeBase(1);
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    const pid_t pid = run_node({"--dev", "--suite", suite, "--data-dir", dir.string(), "--http-addr",
                                "127.0.0.1:" + std::to_string(port)},
                               false);
    api::NodeStatus st;
    EXPECT_TRUE(WaitFor([&] {
      auto r = client::HttpRequest(url, "GET", "/v1/status", "", "application/json", {.timeout_ms = 1000});
      return r.ok() && r->status == 200 && google::protobuf::util::JsonStringToMessage(r->body, &st).ok() &&
             st.role() == "leader";
    }, std::chrono::seconds(20)));
    EXPECT_EQ(st.suite(), suite);
    ::kill(pid, SIGTERM);
    EXPECT_EQ(WaitExit(pid), 0) << "graceful stop";
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

CL_INSTANTIATE_FOR_EVERY_SUITE(CliSuiteTest);

}  // namespace
}  // namespace cl::cli::testing
