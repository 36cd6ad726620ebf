// Identifier validation and signer resolution shared by the contracts.
#include <set>

#include "contracts/internal.h"

namespace cl::contracts::internal {

bool ValidCode(std::string_view s) {
  if (s.empty() || s.size() > kMaxCodeBytes) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ValidId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdBytes) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

bool ValidText(std::string_view s) {
  return s.size() <= kMaxTextBytes && s.find('\0') == std::string_view::npos;
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list, std::string_view s) {
  for (const auto& e : list) {
    if (e == s) return true;
  }
  return false;
}

bool ValidCodeList(const google::protobuf::RepeatedPtrField<std::string>& list) {
  if (static_cast<size_t>(list.size()) > kMaxListItems) return false;
  std::set<std::string_view> seen;
  for (const auto& e : list) {
    if (!ValidCode(e) || !seen.insert(e).second) return false;
  }
  return true;
}

Result<std::optional<v1::Department>> ActiveDepartment(const StateView& state,
                                                       std::string_view code) {
  if (!ValidCode(code)) return std::optional<v1::Department>();
  CL_ASSIGN_OR_RETURN(auto dept, GetRecord<v1::Department>(state, keys::Dept(code)));
  if (dept && dept->removed_height() != 0) return std::optional<v1::Department>();
  return dept;
}

Result<std::optional<v1::Member>> ActiveMember(const StateView& state, ByteView key, Height h) {
  if (key.empty()) return std::optional<v1::Member>();
  CL_ASSIGN_OR_RETURN(auto m, GetRecord<v1::Member>(state, keys::Member(key)));
  if (!m) return m;
  if (m->revoked_height() != 0 && h.value() >= m->revoked_height()) {
    return std::optional<v1::Member>();
  }
  CL_ASSIGN_OR_RETURN(auto dept, GetRecord<v1::Department>(state, keys::Dept(m->department())));
  if (!dept || (dept->removed_height() != 0 && h.value() >= dept->removed_height())) {
    return std::optional<v1::Member>();
  }
  return m;
}

bool HasRole(const v1::Member& m, v1::Role role) {
  for (int r : m.roles()) {
    if (r == role) return true;
  }
  return false;
}

}  // namespace cl::contracts::internal
