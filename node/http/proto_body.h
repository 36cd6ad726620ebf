// Protobuf request and response bodies: JSON by the proto3 JSON mapping, or
// binary protobuf (Content-Type application/x-protobuf).
#pragma once

#include <optional>

#include "node/http/types.h"

namespace google::protobuf {
class Message;
}

namespace cl::node::http {

inline constexpr std::string_view kProtobufType = "application/x-protobuf";

// Parses the request body into `out` according to its Content-Type:
// application/json (also when absent) by the proto3 JSON mapping, unknown
// fields refused; application/x-protobuf as binary. Returns nothing on
// success, or the error response to send: 415 for another Content-Type, 400
// INVALID_ARGUMENT for an empty or undecodable body (the message says why).
std::optional<Response> ParseBody(const Request& request, google::protobuf::Message* out);

// True if the request's Accept header names application/x-protobuf (the
// answer is then binary protobuf; otherwise proto3 JSON).
bool WantsProtobuf(const Request& request);

// `message` as the response body: binary protobuf if the request's Accept
// header names application/x-protobuf, else proto3 JSON.
Response ProtoResponse(const Request& request, const google::protobuf::Message& message,
                       int status = 200);

}  // namespace cl::node::http
