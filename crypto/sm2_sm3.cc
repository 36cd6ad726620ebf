// The 国密 suite: SM2 signatures (GB/T 32918) and SM3 hashes (GB/T 32905), from
// OpenSSL 3's EVP and EC_POINT APIs (no deprecated EC_KEY). Formats are in
// docs/crypto.md: 65-byte uncompressed public keys, 32-byte secret scalars,
// 64-byte r||s signatures, user id "1234567812345678".
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <memory>

#include "base/check.h"
#include "crypto/suites_internal.h"

namespace cl::crypto {
namespace {

constexpr size_t kScalarBytes = 32;
constexpr size_t kPublicKeyBytes = 65;
constexpr size_t kSignatureBytes = 64;
constexpr std::string_view kSeedTag{"certledger/sm2-sm3/key-from-seed/v1\0", 36};

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX_free>>;
using PointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT_free>>;
using GroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using MdPtr = std::unique_ptr<EVP_MD, Deleter<EVP_MD_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;

// A default ByteView has a null data(); C APIs may not be passed null even with
// length 0 (UBSan flags it), so empty views map to a valid empty buffer.
const unsigned char* U(ByteView v) {
  static const unsigned char kEmpty[1] = {0};
  return v.data() == nullptr ? kEmpty : reinterpret_cast<const unsigned char*>(v.data());
}
unsigned char* U(Bytes& v) { return reinterpret_cast<unsigned char*>(v.data()); }

// The text of OpenSSL's error queue (emptied), for messages of internal errors.
std::string TakeOpensslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error recorded" : out;
}

BnPtr BnFromBytes(ByteView bytes, bool secret) {
  BnPtr bn(secret ? BN_secure_new() : BN_new());
  CL_CHECK(bn != nullptr, "BN_new failed");
  CL_CHECK(BN_bin2bn(U(bytes), static_cast<int>(bytes.size()), bn.get()) != nullptr, "BN_bin2bn");
  return bn;
}

// A digest-sign/verify context for `pkey` whose Z value uses the default user
// id. OpenSSL 3.0 ignores a "distid" param passed to EVP_DigestSignInit_ex, so
// this is the SM2(7) recipe: set the id on an EVP_PKEY_CTX and hand that to the
// EVP_MD_CTX (which borrows it: `pkey_ctx` must outlive `md_ctx`).
struct Sm2DigestCtx {
  PkeyCtxPtr pkey_ctx;
  MdCtxPtr md_ctx;
};

Result<Sm2DigestCtx> MakeDigestCtx(EVP_PKEY* pkey) {
  Sm2DigestCtx c;
  c.pkey_ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  c.md_ctx.reset(EVP_MD_CTX_new());
  if (!c.pkey_ctx || !c.md_ctx ||
      EVP_PKEY_CTX_set1_id(c.pkey_ctx.get(), kSm2DefaultUserId.data(),
                           static_cast<int>(kSm2DefaultUserId.size())) != 1)
    return Internal("SM2 context: " + TakeOpensslErrors());
  EVP_MD_CTX_set_pkey_ctx(c.md_ctx.get(), c.pkey_ctx.get());
  return c;
}

// The curve, its order and an SM3 implementation, shared read-only by every
// call (OpenSSL allows concurrent read-only use of EC_GROUP and EVP_MD).
class Sm2Curve {
 public:
  Sm2Curve() {
    group_.reset(EC_GROUP_new_by_curve_name(NID_sm2));
    CL_CHECK(group_ != nullptr, "this OpenSSL has no SM2 curve");
    sm3_.reset(EVP_MD_fetch(nullptr, "SM3", nullptr));
    CL_CHECK(sm3_ != nullptr, "this OpenSSL has no SM3");
    n_minus_2_.reset(BN_dup(EC_GROUP_get0_order(group_.get())));
    CL_CHECK(n_minus_2_ != nullptr && BN_sub_word(n_minus_2_.get(), 2) == 1, "SM2 order");
  }
  const EC_GROUP* group() const { return group_.get(); }
  const EVP_MD* sm3() const { return sm3_.get(); }
  const BIGNUM* order() const { return EC_GROUP_get0_order(group_.get()); }
  const BIGNUM* n_minus_2() const { return n_minus_2_.get(); }

 private:
  GroupPtr group_;
  MdPtr sm3_;
  BnPtr n_minus_2_;
};

const Sm2Curve& Curve() {
  static const Sm2Curve* curve = new Sm2Curve();  // never destroyed: used until exit
  return *curve;
}

// d as a BIGNUM if `secret` is a valid SM2 secret key (32 bytes, 1 <= d <= n-2).
Result<BnPtr> ScalarOf(const SecretKey& secret) {
  if (secret.bytes().size() != kScalarBytes)
    return InvalidArgument("not an sm2 secret key (must be 32 bytes, got " +
                           std::to_string(secret.bytes().size()) + ")");
  BnPtr d = BnFromBytes(secret.bytes(), /*secret=*/true);
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), Curve().n_minus_2()) > 0)
    return InvalidArgument("not an sm2 secret key (scalar out of range [1, n-2])");
  return d;
}

Bytes PublicKeyFromScalar(const BIGNUM* d) {
  const EC_GROUP* g = Curve().group();
  BnCtxPtr bn_ctx(BN_CTX_secure_new());
  PointPtr q(EC_POINT_new(g));
  CL_CHECK(bn_ctx && q, "out of memory");
  CL_CHECK(EC_POINT_mul(g, q.get(), d, nullptr, nullptr, bn_ctx.get()) == 1, "EC_POINT_mul");
  Bytes out(kPublicKeyBytes, '\0');
  const size_t n = EC_POINT_point2oct(g, q.get(), POINT_CONVERSION_UNCOMPRESSED, U(out),
                                      out.size(), bn_ctx.get());
  CL_CHECK_EQ(n, kPublicKeyBytes, "SM2 public key encoding");
  return out;
}

// True if `pub` is 04||x||y of a point on the curve (not the point at infinity).
bool IsValidPublicKey(ByteView pub) {
  if (pub.size() != kPublicKeyBytes || pub[0] != 0x04) return false;
  PointPtr q(EC_POINT_new(Curve().group()));
  const bool ok = q != nullptr &&
                  EC_POINT_oct2point(Curve().group(), q.get(), U(pub), pub.size(), nullptr) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

// An EVP_PKEY of type SM2 with the public key and, if d is non-null, the
// secret scalar.
Result<PkeyPtr> MakePkey(ByteView pub, const BIGNUM* d) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(),
                                       pub.size()) != 1 ||
      (d != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d) != 1))
    return Internal("building SM2 key parameters: " + TakeOpensslErrors());
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "SM2", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, d != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1)
    return InvalidArgument("not an SM2 key: " + TakeOpensslErrors());
  return PkeyPtr(raw);
}

class Sm2Sm3 final : public Suite {
 public:
  Sm2Sm3() { (void)Curve(); }

  std::string_view name() const override { return "sm2-sm3"; }
  size_t public_key_size() const override { return kPublicKeyBytes; }
  size_t signature_size() const override { return kSignatureBytes; }

  Digest HashParts(std::span<const ByteView> parts) const override {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    CL_CHECK(ctx && EVP_DigestInit_ex2(ctx.get(), Curve().sm3(), nullptr) == 1, "SM3 init");
    for (ByteView p : parts) CL_CHECK(EVP_DigestUpdate(ctx.get(), U(p), p.size()) == 1, "SM3");
    Digest d;
    unsigned int len = 0;
    CL_CHECK(EVP_DigestFinal_ex(ctx.get(), d.bytes.data(), &len) == 1 && len == Digest::kSize,
             "SM3 final");
    return d;
  }

  Digest KeyedHash(ByteView key, ByteView data) const override {
    Digest d;
    unsigned int len = 0;
    CL_CHECK(HMAC(Curve().sm3(), U(key), static_cast<int>(key.size()), U(data), data.size(),
                  d.bytes.data(), &len) != nullptr &&
                 len == Digest::kSize,
             "HMAC-SM3");
    return d;
  }

  KeyPair GenerateKey() const override {
    Bytes seed(kScalarBytes, '\0');
    CL_CHECK(RAND_priv_bytes(U(seed), static_cast<int>(seed.size())) == 1,
             "OpenSSL random source failed");
    auto kp = KeyFromSeed(seed);
    OPENSSL_cleanse(seed.data(), seed.size());
    CL_CHECK(kp.ok(), "sm2 key generation failed");
    return std::move(kp).value();
  }

  // d = h + 1 for the first h = SM3(tag || seed || counter) below n - 2, so
  // 1 <= d <= n - 2 as GB/T 32918.1 requires (and d + 1 is invertible).
  Result<KeyPair> KeyFromSeed(ByteView seed) const override {
    if (seed.size() != kScalarBytes)
      return InvalidArgument("sm2 seed must be 32 bytes, got " + std::to_string(seed.size()));
    for (int counter = 0; counter < 256; ++counter) {
      const char c = static_cast<char>(counter);
      const ByteView parts[] = {kSeedTag, seed, ByteView(&c, 1)};
      Digest h = HashParts(parts);
      BnPtr d = BnFromBytes(h.view(), /*secret=*/true);
      OPENSSL_cleanse(h.bytes.data(), h.bytes.size());
      if (BN_cmp(d.get(), Curve().n_minus_2()) >= 0) continue;
      CL_CHECK(BN_add_word(d.get(), 1) == 1, "BN_add_word");
      Bytes secret(kScalarBytes, '\0');
      CL_CHECK(BN_bn2binpad(d.get(), U(secret), kScalarBytes) == kScalarBytes, "BN_bn2binpad");
      Bytes pub = PublicKeyFromScalar(d.get());
      return KeyPair{std::move(pub), SecretKey(std::move(secret))};
    }
    CL_UNREACHABLE("256 SM3 outputs all at or above n - 2");
  }

  Result<Bytes> PublicKeyOf(const SecretKey& secret) const override {
    CL_ASSIGN_OR_RETURN(BnPtr d, ScalarOf(secret));
    return PublicKeyFromScalar(d.get());
  }

  Result<Bytes> Sign(const SecretKey& secret, ByteView message) const override {
    CL_ASSIGN_OR_RETURN(BnPtr d, ScalarOf(secret));
    const Bytes pub = PublicKeyFromScalar(d.get());
    CL_ASSIGN_OR_RETURN(PkeyPtr pkey, MakePkey(pub, d.get()));
    CL_ASSIGN_OR_RETURN(Sm2DigestCtx ctx, MakeDigestCtx(pkey.get()));
    size_t der_size = 0;
    if (EVP_DigestSignInit_ex(ctx.md_ctx.get(), nullptr, "SM3", nullptr, nullptr, pkey.get(),
                              nullptr) != 1 ||
        EVP_DigestSign(ctx.md_ctx.get(), nullptr, &der_size, U(message), message.size()) != 1)
      return Internal("SM2 sign init: " + TakeOpensslErrors());
    Bytes der(der_size, '\0');
    if (EVP_DigestSign(ctx.md_ctx.get(), U(der), &der_size, U(message), message.size()) != 1)
      return Internal("SM2 sign: " + TakeOpensslErrors());
    der.resize(der_size);
    return Sm2SignatureFromDer(der);
  }

  bool Verify(ByteView public_key, ByteView message, ByteView signature) const override {
    if (signature.size() != kSignatureBytes || !IsValidPublicKey(public_key)) return false;
    auto der = Sm2SignatureToDer(signature);
    if (!der.ok()) return false;
    auto pkey = MakePkey(public_key, nullptr);
    if (!pkey.ok()) return false;
    auto ctx = MakeDigestCtx(pkey->get());
    const bool ok = ctx.ok() &&
                    EVP_DigestVerifyInit_ex(ctx->md_ctx.get(), nullptr, "SM3", nullptr, nullptr,
                                            pkey->get(), nullptr) == 1 &&
                    EVP_DigestVerify(ctx->md_ctx.get(), U(*der), der->size(), U(message),
                                     message.size()) == 1;
    ERR_clear_error();  // a bad signature leaves errors on this thread's queue
    return ok;
  }
};

}  // namespace

std::shared_ptr<const Suite> MakeSm2Sm3() { return std::make_shared<Sm2Sm3>(); }

Result<Bytes> Sm2SignatureToDer(ByteView raw) {
  if (raw.size() != kSignatureBytes) return InvalidArgument("sm2 signature must be 64 bytes");
  BnPtr r = BnFromBytes(raw.substr(0, 32), false);
  BnPtr s = BnFromBytes(raw.substr(32), false);
  const BIGNUM* n = Curve().order();
  if (BN_is_zero(r.get()) || BN_is_zero(s.get()) || BN_cmp(r.get(), n) >= 0 ||
      BN_cmp(s.get(), n) >= 0)
    return InvalidArgument("sm2 signature r or s outside [1, n-1]");
  SigPtr sig(ECDSA_SIG_new());
  CL_CHECK(sig != nullptr, "out of memory");
  CL_CHECK(ECDSA_SIG_set0(sig.get(), r.release(), s.release()) == 1, "ECDSA_SIG_set0");
  unsigned char* buf = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &buf);
  CL_CHECK(len > 0, "i2d_ECDSA_SIG");
  Bytes der(reinterpret_cast<const char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return der;
}

Result<Bytes> Sm2SignatureFromDer(ByteView der) {
  const unsigned char* p = U(der);
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != U(der) + der.size()) {
    ERR_clear_error();
    return InvalidArgument("not a DER SM2 signature");
  }
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  Bytes raw(kSignatureBytes, '\0');
  if (BN_bn2binpad(r, U(raw), 32) != 32 ||
      BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data() + 32), 32) != 32)
    return InvalidArgument("SM2 signature integer longer than 32 bytes");
  // Only the canonical encoding is accepted, so one signature has one form.
  auto again = Sm2SignatureToDer(raw);
  if (!again.ok() || *again != der) return InvalidArgument("SM2 signature is not canonical DER");
  return raw;
}

Result<std::string> Sm2PublicKeyPem(ByteView public_key) {
  if (!IsValidPublicKey(public_key)) return InvalidArgument("not an sm2 public key");
  CL_ASSIGN_OR_RETURN(PkeyPtr pkey, MakePkey(public_key, nullptr));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1)
    return Internal("PEM_write_bio_PUBKEY: " + TakeOpensslErrors());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> Sm2PrivateKeyPem(const SecretKey& secret) {
  CL_ASSIGN_OR_RETURN(BnPtr d, ScalarOf(secret));
  CL_ASSIGN_OR_RETURN(PkeyPtr pkey, MakePkey(PublicKeyFromScalar(d.get()), d.get()));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1)
    return Internal("PEM_write_bio_PrivateKey: " + TakeOpensslErrors());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace cl::crypto
