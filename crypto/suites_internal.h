// Constructors of the concrete suites; only suite.cc and tests include this.
#pragma once

#include <memory>

#include "crypto/suite.h"

namespace cl::crypto {

std::shared_ptr<const Suite> MakeEd25519Sha256();

// Initializes libsodium once (thread-safe); crashes if it cannot.
void EnsureSodium();

}  // namespace cl::crypto
