// Fuzz target: request and response bodies of the HTTP API
// (node/http/proto_body.h): the proto3 JSON mapping and binary protobuf, for
// the messages the node parses from clients (SignedTx, MembershipRequest) and
// the views clients parse from nodes (cli/context.cc, cli/verify.cc).
//
// Input: a byte choosing the message type, a byte choosing the Content-Type
// (application/json, with parameters or odd case, application/x-protobuf,
// absent, or another type), then the body.
// Invariants:
//   - another Content-Type is 415; every refusal is a 4xx JSON error body;
//   - whatever ParseBody accepts renders back (never a 500), as JSON and as
//     binary, and parses back to an equal message (unknown binary fields are
//     not carried into JSON, so they are discarded before comparing).
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/check.h"
#include "fuzz/fuzz_util.h"
#include "node/http/proto_body.h"
#include "proto/api.pb.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"

namespace cl::fuzz {
namespace {

std::unique_ptr<google::protobuf::Message> NewMessage(uint8_t kind) {
  switch (kind % 7) {
    case 0: return std::make_unique<certledger::v1::SignedTx>();
    case 1: return std::make_unique<certledger::api::MembershipRequest>();
    case 2: return std::make_unique<certledger::api::CertificateView>();
    case 3: return std::make_unique<certledger::api::BlockView>();
    case 4: return std::make_unique<certledger::api::TxView>();
    case 5: return std::make_unique<certledger::api::SubmitTxResponse>();
    default: return std::make_unique<certledger::v1::TxBody>();
  }
}

const char* ContentType(uint8_t kind) {
  switch (kind % 6) {
    case 0: return "application/json";
    case 1: return "Application/JSON; charset=utf-8";
    case 2: return "application/x-protobuf";
    case 3: return nullptr;
    case 4: return "text/plain";
    default: return " application/x-protobuf ;v=1";
  }
}

void CheckError(const node::http::Response& r) {
  CL_CHECK(r.status >= 400 && r.status < 500, "a body refusal is not a 4xx: " + std::to_string(r.status));
  CL_CHECK(r.content_type == "application/json", "error bodies are JSON");
  CL_CHECK(r.body.find("\"code\"") != std::string::npos, "error body has a code");
}

}  // namespace
}  // namespace cl::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cl;
  namespace http = node::http;
  fuzz::Input in(data, size);
  const uint8_t kind = in.Byte();
  const uint8_t type = in.Byte();
  http::Request req;
  req.method = "POST";
  if (const char* ct = fuzz::ContentType(type)) req.headers.emplace_back("content-type", ct);
  req.body = in.Rest();
  auto msg = fuzz::NewMessage(kind);
  auto err = http::ParseBody(req, msg.get());
  if (err) {
    fuzz::CheckError(*err);
    if (type % 6 == 4) CL_CHECK(err->status == 415, "another Content-Type is 415");
    return 0;
  }
  CL_CHECK(type % 6 != 4, "a body of another Content-Type was parsed");
  msg->DiscardUnknownFields();

  // JSON out and back.
  http::Request as_json;
  http::Response json = http::ProtoResponse(as_json, *msg);
  CL_CHECK(json.status == 200, "a parsed body does not render as JSON: " + json.body);
  http::Request back_req;
  back_req.body = json.body;
  auto back = fuzz::NewMessage(kind);
  auto back_err = http::ParseBody(back_req, back.get());
  CL_CHECK(!back_err, "rendered JSON does not parse back: " + json.body);
  CL_CHECK(google::protobuf::util::MessageDifferencer::Equals(*msg, *back),
           "JSON round trip changed the message: " + json.body);

  // Binary out and back.
  http::Request as_bin;
  as_bin.headers.emplace_back("accept", std::string(http::kProtobufType));
  http::Response bin = http::ProtoResponse(as_bin, *msg);
  CL_CHECK(bin.status == 200 && bin.content_type == http::kProtobufType, "binary rendering");
  auto back_bin = fuzz::NewMessage(kind);
  CL_CHECK(back_bin->ParseFromString(bin.body), "binary does not parse back");
  CL_CHECK(google::protobuf::util::MessageDifferencer::Equals(*msg, *back_bin), "binary round trip");
  return 0;
}
