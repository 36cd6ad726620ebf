#include "node/api_json.h"

#include <charconv>
#include <cstdint>

#include "base/bytes.h"
#include "proto/api.pb.h"
#include "proto/records.pb.h"

namespace cl::node {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendU16(uint32_t u, std::string* out) {
  const char esc[6] = {'\\', 'u', kHexDigits[(u >> 12) & 15], kHexDigits[(u >> 8) & 15],
                       kHexDigits[(u >> 4) & 15], kHexDigits[u & 15]};
  out->append(esc, sizeof esc);
}

// protobuf's escape of an ASCII character (< 0x80); false if it stays as is.
bool AppendAsciiEscape(unsigned char c, std::string* out) {
  switch (c) {
    case '\b': out->append("\\b"); return true;
    case '\t': out->append("\\t"); return true;
    case '\n': out->append("\\n"); return true;
    case '\f': out->append("\\f"); return true;
    case '\r': out->append("\\r"); return true;
    case '"': out->append("\\\""); return true;
    case '\\': out->append("\\\\"); return true;
    default: break;
  }
  // '<' and '>' are escaped for HTML safety, DEL and the C0 controls as \u00XX.
  if (c < 0x20 || c == '<' || c == '>' || c == 0x7f) {
    AppendU16(c, out);
    return true;
  }
  return false;
}

// Code points >= 0x80 that protobuf's printer escapes (C1 controls and the
// invisible or direction-changing characters it lists); false if copied as is.
bool AppendWideEscape(uint32_t cp, std::string* out) {
  const bool bmp = cp < 0xa0 || cp == 0xad || (cp >= 0x600 && cp <= 0x603) || cp == 0x6dd ||
                   cp == 0x70f || cp == 0x17b4 || cp == 0x17b5 || (cp >= 0x200b && cp <= 0x200f) ||
                   (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
                   (cp >= 0x206a && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb);
  if (bmp) {
    AppendU16(cp, out);
    return true;
  }
  if (cp == 0xe0001 || (cp >= 0x1d173 && cp <= 0x1d17a) || (cp >= 0xe0020 && cp <= 0xe007f)) {
    const uint32_t v = cp - 0x10000;
    AppendU16(0xd800 + (v >> 10), out);
    AppendU16(0xdc00 + (v & 0x3ff), out);
    return true;
  }
  return false;
}

// Decodes the well-formed UTF-8 sequence at s[i] (lead byte >= 0x80): its
// code point and length; false on anything malformed.
bool DecodeUtf8(std::string_view s, size_t i, uint32_t* cp, size_t* len) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = at(i);
  uint32_t min = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    *len = 2, *cp = b0 & 0x1f, min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    *len = 3, *cp = b0 & 0x0f, min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    *len = 4, *cp = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (i + *len > s.size()) return false;
  for (size_t k = 1; k < *len; ++k) {
    const unsigned char b = at(i + k);
    if ((b & 0xc0) != 0x80) return false;
    *cp = (*cp << 6) | (b & 0x3f);
  }
  return *cp >= min && *cp <= 0x10ffff && !(*cp >= 0xd800 && *cp <= 0xdfff);
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(end - buf));
}

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(end - buf));
}

void AppendBase64(std::string_view bytes, std::string* out) {
  out->push_back('"');
  out->append(ToBase64(bytes));
  out->push_back('"');
}

// Writes one JSON object's members in order; `ok` turns false on a string
// that is not well-formed UTF-8.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void End() { out_->push_back('}'); }

  void String(std::string_view name, std::string_view v) {
    if (v.empty()) return;
    Key(name);
    ok_ = AppendProtoJsonString(v, out_) && ok_;
  }
  void BytesField(std::string_view name, std::string_view v) {
    if (v.empty()) return;
    Key(name);
    AppendBase64(v, out_);
  }
  void Int64(std::string_view name, int64_t v) {  // proto3 JSON quotes 64-bit integers
    if (v == 0) return;
    Key(name);
    out_->push_back('"');
    AppendInt(v, out_);
    out_->push_back('"');
  }
  void Uint64(std::string_view name, uint64_t v) {
    if (v == 0) return;
    Key(name);
    out_->push_back('"');
    AppendUint(v, out_);
    out_->push_back('"');
  }
  // An enum by name, or by number when the value has no name (as protobuf does).
  void Enum(std::string_view name, int v, const std::string& value_name) {
    if (v == 0) return;
    Key(name);
    if (value_name.empty()) {
      AppendInt(v, out_);
    } else {
      out_->push_back('"');
      out_->append(value_name);  // enum value names are identifiers: nothing to escape
      out_->push_back('"');
    }
  }
  // Starts a member whose value the caller writes.
  void Key(std::string_view name) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(name);
    out_->append("\":");
  }
  bool ok() const { return ok_; }

 private:
  std::string* out_;
  bool first_ = true;
  bool ok_ = true;
};

const std::string& CertStatusEnumName(int v) {
  static const std::string kNone;
  return v1::CertStatus_IsValid(v) ? v1::CertStatus_Name(static_cast<v1::CertStatus>(v)) : kNone;
}
const std::string& DocClassEnumName(int v) {
  static const std::string kNone;
  return v1::DocClass_IsValid(v) ? v1::DocClass_Name(static_cast<v1::DocClass>(v)) : kNone;
}
const std::string& EventKindEnumName(int v) {
  static const std::string kNone;
  return v1::CertEvent::Kind_IsValid(v) ? v1::CertEvent::Kind_Name(static_cast<v1::CertEvent::Kind>(v))
                                        : kNone;
}

bool WriteAnchor(const v1::AnchorCertificate& a, std::string* out) {
  ObjectWriter w(out);
  w.String("certId", a.cert_id());
  w.BytesField("docHash", a.doc_hash());
  w.String("typeCode", a.type_code());
  w.BytesField("numberRef", a.number_ref());
  w.BytesField("holderRef", a.holder_ref());
  w.String("issuer", a.issuer());
  w.Int64("issuedAtMs", a.issued_at_ms());
  w.Int64("validFromMs", a.valid_from_ms());
  w.Int64("validUntilMs", a.valid_until_ms());
  w.String("jurisdiction", a.jurisdiction());
  bool ok = w.ok();
  if (a.attributes_size() > 0) {
    w.Key("attributes");
    out->push_back('[');
    for (int i = 0; i < a.attributes_size(); ++i) {
      if (i > 0) out->push_back(',');
      ObjectWriter aw(out);
      aw.String("name", a.attributes(i).name());
      aw.BytesField("commitment", a.attributes(i).commitment());
      aw.End();
      ok = ok && aw.ok();
    }
    out->push_back(']');
  }
  w.End();
  return ok;
}

bool WriteEvent(const v1::CertEvent& e, std::string* out) {
  ObjectWriter w(out);
  w.Enum("kind", e.kind(), EventKindEnumName(e.kind()));
  w.Uint64("height", e.height());
  w.Int64("timeMs", e.time_ms());
  w.String("reason", e.reason());
  w.BytesField("txId", e.tx_id());
  w.BytesField("signer", e.signer());
  w.String("newCertId", e.new_cert_id());
  w.End();
  return w.ok();
}

bool WriteRecord(const v1::CertificateRecord& r, std::string* out) {
  ObjectWriter w(out);
  bool ok = true;
  if (r.has_anchor()) {
    w.Key("anchor");
    ok = WriteAnchor(r.anchor(), out);
  }
  w.Enum("status", r.status(), CertStatusEnumName(r.status()));
  if (r.history_size() > 0) {
    w.Key("history");
    out->push_back('[');
    for (int i = 0; i < r.history_size(); ++i) {
      if (i > 0) out->push_back(',');
      ok = WriteEvent(r.history(i), out) && ok;
    }
    out->push_back(']');
  }
  w.Enum("docClass", r.doc_class(), DocClassEnumName(r.doc_class()));
  w.String("supersededBy", r.superseded_by());
  w.End();
  return ok && w.ok();
}

}  // namespace

bool AppendProtoJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>') {
      ++i;
      continue;
    }
    out->append(s.data() + run, i - run);
    if (c < 0x80) {
      if (!AppendAsciiEscape(c, out)) out->push_back(static_cast<char>(c));
      run = ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = 0;
    if (!DecodeUtf8(s, i, &cp, &len)) return false;
    if (!AppendWideEscape(cp, out)) out->append(s.data() + i, len);
    i += len;
    run = i;
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
  return true;
}

std::optional<std::string> CertificateViewJson(const api::CertificateView& view) {
  if (view.has_proof() || view.history_txs_size() > 0) return std::nullopt;
  std::string out;
  out.reserve(1024);
  ObjectWriter w(&out);
  bool ok = true;
  if (view.has_record()) {
    w.Key("record");
    ok = WriteRecord(view.record(), &out);
  }
  w.String("status", view.status());
  w.Uint64("checkedHeight", view.checked_height());
  w.Int64("checkedTimeMs", view.checked_time_ms());
  w.String("anchorTxId", view.anchor_tx_id());
  w.End();
  if (!ok || !w.ok()) return std::nullopt;
  return out;
}

}  // namespace cl::node
