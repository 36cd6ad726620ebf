#include "node/http/proto_body.h"

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

namespace cl::node::http {
namespace {

// The media type without parameters, lower-cased: "Application/JSON; charset=utf-8" -> "application/json".
std::string MediaType(const std::string* header) {
  if (header == nullptr) return "";
  std::string t = header->substr(0, header->find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
  size_t b = t.find_first_not_of(" \t");
  t = b == std::string::npos ? "" : t.substr(b);
  for (char& c : t)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return t;
}

}  // namespace

std::optional<Response> ParseBody(const Request& request, google::protobuf::Message* out) {
  const std::string type = MediaType(request.Header("content-type"));
  if (type == kProtobufType) {
    // An empty body would parse as an empty message: refuse it as for JSON.
    if (request.body.empty()) return ErrorResponse(InvalidArgument("empty request body"));
    if (!out->ParseFromString(request.body))
      return ErrorResponse(InvalidArgument("body is not a valid binary " + out->GetTypeName()));
    return std::nullopt;
  }
  if (type != "application/json" && !type.empty()) {
    return ErrorResponse(InvalidArgument("unsupported Content-Type '" + type +
                                         "' (use application/json or application/x-protobuf)"),
                         415);
  }
  if (request.body.empty()) return ErrorResponse(InvalidArgument("empty request body"));
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(request.body, out, opts);
  if (!st.ok()) {
    return ErrorResponse(InvalidArgument("body is not valid JSON for " + out->GetTypeName() + ": " +
                                         std::string(st.message())));
  }
  return std::nullopt;
}

bool WantsProtobuf(const Request& request) {
  const std::string* accept = request.Header("accept");
  return accept != nullptr && accept->find(kProtobufType) != std::string::npos;
}

Response ProtoResponse(const Request& request, const google::protobuf::Message& message, int status) {
  if (WantsProtobuf(request)) {
    return Response{status, std::string(kProtobufType), message.SerializeAsString(), {}};
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = false;
  auto st = google::protobuf::util::MessageToJsonString(message, &json, opts);
  if (!st.ok()) return ErrorResponse(Internal("cannot render " + message.GetTypeName() + " as JSON"));
  return Response::Json(status, std::move(json));
}

}  // namespace cl::node::http
