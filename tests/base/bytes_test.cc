#include "base/bytes.h"

#include <gtest/gtest.h>

namespace cl {
namespace {

TEST(BytesTest, HexRoundTrip) {
  Bytes b("\x00\x01\xab\xff", 4);
  EXPECT_EQ(ToHex(b), "0001abff");
  EXPECT_EQ(*FromHex("0001ABff"), b);
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_FALSE(FromHex("zz").has_value());
  EXPECT_EQ(*FromHex(""), "");
}

TEST(BytesTest, Base64MatchesRfc4648Vectors) {
  struct Case { const char* plain; const char* encoded; };
  for (const Case& c : {Case{"", ""}, Case{"f", "Zg=="}, Case{"fo", "Zm8="}, Case{"foo", "Zm9v"},
                        Case{"foob", "Zm9vYg=="}, Case{"fooba", "Zm9vYmE="},
                        Case{"foobar", "Zm9vYmFy"}}) {
    EXPECT_EQ(ToBase64(c.plain), c.encoded) << c.plain;
    EXPECT_EQ(*FromBase64(c.encoded), c.plain) << c.encoded;
  }
  EXPECT_FALSE(FromBase64("Zm9v!").has_value());
  EXPECT_FALSE(FromBase64("Z").has_value());
  EXPECT_FALSE(FromBase64("Zh==").has_value());  // non-zero padding bits
}

TEST(BytesTest, BigEndianSortsNumerically) {
  EXPECT_LT(BigEndian64(255), BigEndian64(256));
  EXPECT_LT(BigEndian64(1), BigEndian64(1ull << 40));
  EXPECT_EQ(ReadBigEndian64(BigEndian64(0x0102030405060708ull)), 0x0102030405060708ull);
  Bytes b;
  PutBigEndian32(&b, 0xdeadbeef);
  EXPECT_EQ(ToHex(b), "deadbeef");
  EXPECT_EQ(ReadBigEndian32(b), 0xdeadbeefu);
}

TEST(BytesTest, ConstantTimeEqual) {
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "ab"));
}

}  // namespace
}  // namespace cl
