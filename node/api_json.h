// Hand-rendered JSON for the hot read answer of the API: the certificate
// lookup (GET /v1/certificates/{doc_hash} and /v1/certificates/id/{cert_id}
// without ?proof=true). docs/performance.md, "Certificate lookups".
//
// The output is byte for byte what protobuf's JSON converter prints for the
// same message with the options http::ProtoResponse uses (proto3 JSON
// mapping, lowerCamelCase names, fields in field-number order, defaults
// omitted, 64-bit integers quoted, bytes as standard base64, enums by name —
// by number if unknown — and protobuf's string escaping), without the
// converter's cost (it re-parses the message through a type resolver and
// allocates per field). tests/node/api_json_test.cc compares both over a
// table of certificate states.
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace certledger::api {
class CertificateView;
}  // namespace certledger::api

namespace cl::node {

// Appends `s` as a JSON string literal (quotes included) escaped exactly as
// protobuf's JSON printer escapes strings. False (and `out` partly written)
// if `s` is not well-formed UTF-8 (overlong forms, surrogates and truncated
// sequences included): the caller then renders with the converter.
bool AppendProtoJsonString(std::string_view s, std::string* out);

// The proto3 JSON of `view`, identical to the converter's; nullopt if the
// view holds a proof or history_txs (?proof=true answers go through the
// converter) or a string that is not well-formed UTF-8.
std::optional<std::string> CertificateViewJson(const certledger::api::CertificateView& view);

}  // namespace cl::node
