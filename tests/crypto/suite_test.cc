#include "crypto/suite.h"

#include <gtest/gtest.h>

#include "crypto/domain.h"

namespace cl::crypto {
namespace {

std::shared_ptr<const Suite> Ed() { return MakeSuite("ed25519-sha256").value(); }

TEST(SuiteTest, UnknownSuiteIsAClearError) {
  auto s = MakeSuite("rsa-md5");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("ed25519-sha256"), std::string::npos);
}

TEST(SuiteTest, Sha256Vectors) {
  auto s = Ed();
  // FIPS 180-2 examples.
  EXPECT_EQ(s->Hash("abc").ToHex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(s->Hash("").ToHex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ByteView parts[] = {"a", "", "bc"};
  EXPECT_EQ(s->HashParts(parts), s->Hash("abc"));
}

TEST(SuiteTest, HmacSha256Rfc4231Case2) {
  auto s = Ed();
  EXPECT_EQ(s->KeyedHash("Jefe", "what do ya want for nothing?").ToHex(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SuiteTest, Ed25519Rfc8032Test1) {
  auto s = Ed();
  auto seed = *FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  auto kp = s->KeyFromSeed(seed);
  ASSERT_TRUE(kp.ok());
  EXPECT_EQ(ToHex(kp->public_key),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = s->Sign(kp->secret_key, "");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(ToHex(*sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(s->Verify(kp->public_key, "", *sig));
  EXPECT_EQ(*s->PublicKeyOf(kp->secret_key), kp->public_key);
}

TEST(SuiteTest, SignVerifyRejectsAnyChange) {
  auto s = Ed();
  KeyPair kp = s->GenerateKey();
  Bytes msg = TxMessage("body bytes");
  Bytes sig = s->Sign(kp.secret_key, msg).value();
  EXPECT_EQ(sig.size(), s->signature_size());
  EXPECT_EQ(kp.public_key.size(), s->public_key_size());
  EXPECT_TRUE(s->Verify(kp.public_key, msg, sig));
  EXPECT_FALSE(s->Verify(kp.public_key, TxMessage("body bytez"), sig));
  EXPECT_FALSE(s->Verify(kp.public_key, HeaderMessage("body bytes"), sig));
  Bytes bad = sig;
  bad[0] ^= 1;
  EXPECT_FALSE(s->Verify(kp.public_key, msg, bad));
  EXPECT_FALSE(s->Verify(kp.public_key, msg, sig.substr(1)));
  EXPECT_FALSE(s->Verify("short", msg, sig));
  KeyPair other = s->GenerateKey();
  EXPECT_FALSE(s->Verify(other.public_key, msg, sig));
}

TEST(SuiteTest, MalformedSecretKeysAreErrors) {
  auto s = Ed();
  EXPECT_EQ(s->Sign(SecretKey(Bytes(10, 'x')), "m").status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(s->KeyFromSeed("short").ok());
  KeyPair kp = s->GenerateKey();
  Bytes tampered(kp.secret_key.bytes());
  tampered[40] ^= 1;  // public half no longer matches the seed
  EXPECT_FALSE(s->PublicKeyOf(SecretKey(tampered)).ok());
}

}  // namespace
}  // namespace cl::crypto
