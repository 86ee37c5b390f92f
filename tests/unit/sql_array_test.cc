// SqlArray's text form, which PostgreSQL parses back into the array a batch statement unnests
// (tests/integration/scan_batch_test.cc sends it client_scan_ids with quotes, commas and braces).
#include "server/store/sql_array.h"

#include "gtest/gtest.h"

namespace turnout::store {
namespace {

TEST(SqlArrayTest, EmptyIsTheEmptyArray) {
  SqlArray a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.Text(), "{}");
}

TEST(SqlArrayTest, NumbersBooleansAndNullsInOrder) {
  SqlArray a;
  a.AddInt(1);
  a.AddInt(-9223372036854775807LL - 1);
  a.AddNull();
  a.AddBool(true);
  a.AddBool(false);
  EXPECT_EQ(a.size(), 5);
  EXPECT_EQ(a.Text(), "{1,-9223372036854775808,NULL,t,f}");
}

TEST(SqlArrayTest, TextIsAlwaysQuotedAndEscaped) {
  SqlArray a;
  a.AddText("");
  a.AddText("NULL");
  a.AddText(R"(a "quoted", {braced} \ one)");
  EXPECT_EQ(a.Text(), R"({"","NULL","a \"quoted\", {braced} \\ one"})");
}

}  // namespace
}  // namespace turnout::store
