// Constructors of the concrete suites and sm2-sm3 interop helpers; included by
// crypto/*.cc, tests and benchmarks only (not part of the public crypto API).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/suite.h"

namespace cl::crypto {

std::shared_ptr<const Suite> MakeEd25519Sha256();
std::shared_ptr<const Suite> MakeSm2Sm3();

// ---- sm2-sm3 interoperability (DER- and PEM-speaking tools, e.g. openssl) ----

// The SM2 user id in the Z value of every sm2-sm3 signature (GB/T 35276 default).
inline constexpr std::string_view kSm2DefaultUserId = "1234567812345678";

// 64-byte r||s <-> DER SEQUENCE { INTEGER r, INTEGER s }. INVALID_ARGUMENT on
// malformed input, r or s outside [1, n-1], or non-canonical DER.
Result<Bytes> Sm2SignatureToDer(ByteView raw);
Result<Bytes> Sm2SignatureFromDer(ByteView der);

// PEM SubjectPublicKeyInfo / unencrypted PKCS#8 of an sm2-sm3 key, as openssl
// reads them. INVALID_ARGUMENT if the key is not one.
Result<std::string> Sm2PublicKeyPem(ByteView public_key);
Result<std::string> Sm2PrivateKeyPem(const SecretKey& secret);

// Initializes libsodium once (thread-safe); crashes if it cannot.
void EnsureSodium();

}  // namespace cl::crypto
