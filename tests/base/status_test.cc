#include "base/status.h"

#include <gtest/gtest.h>

namespace cl {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  CL_ASSIGN_OR_RETURN(int h, Half(x));
  CL_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  CL_RETURN_IF_ERROR(Half(x));
  return Status::Ok();
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CodeNameAndMessage) {
  Status s = NotFound("block 7");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: block 7");
  EXPECT_EQ(s.WithContext("read").ToString(), "NOT_FOUND: read: block 7");
}

TEST(StatusTest, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c)
    names.insert(CodeName(static_cast<Code>(c)));
  EXPECT_EQ(names.size(), static_cast<size_t>(Code::kInternal) + 1);
  EXPECT_EQ(names.count("UNKNOWN"), 0u);
}

TEST(ResultTest, PropagatesValuesAndErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd: 3");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(ResultDeathTest, ValueOfErrorCrashesLoudly) {
  Result<int> r = NotFound("x");
  EXPECT_DEATH((void)r.value(), "Result::value\\(\\) on error");
}

TEST(ResultDeathTest, OkStatusIsNotAnError) {
  EXPECT_DEATH(Result<int>(Status::Ok()), "OK status");
}

TEST(CheckDeathTest, CheckStaysOnAndNamesTheInvariant) {
  int applied = 3, committed = 2;
  EXPECT_DEATH(CL_CHECK(applied <= committed, "applied past commit"),
               "applied <= committed: applied past commit");
}

}  // namespace
}  // namespace cl
