#include "crypto/suite.h"

#include <sodium.h>

#include "crypto/suites_internal.h"

namespace cl::crypto {

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.Wipe();
  }
  return *this;
}

void SecretKey::Wipe() {
  if (!bytes_.empty()) sodium_memzero(bytes_.data(), bytes_.size());
  bytes_.clear();
}

std::vector<std::string> SuiteNames() { return {"ed25519-sha256", "sm2-sm3"}; }

Result<std::shared_ptr<const Suite>> MakeSuite(std::string_view name) {
  if (name == "ed25519-sha256") return MakeEd25519Sha256();
  if (name == "sm2-sm3") return MakeSm2Sm3();
  std::string known;
  for (const auto& n : SuiteNames()) known += (known.empty() ? "" : ", ") + n;
  return InvalidArgument("unknown crypto suite '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace cl::crypto
