#include "netctl/base/result.h"

#include <gtest/gtest.h>

namespace netctl {
namespace {

Result<int> failsWithEexist() { return sysError(EEXIST, "creating veth h-r1-eth1"); }

Result<int> addsContext() {
  int v = NETCTL_TRYC(failsWithEexist(), "node {}", "r1");
  return v + 1;
}

Result<int> passesValue() {
  int v = NETCTL_TRY(Result<int>(41));
  return v + 1;
}

Result<void> voidOk() { return {}; }
Result<int> usesVoid() {
  NETCTL_TRY(voidOk());
  return 7;
}

TEST(Result, ErrorReadsAsOneLineWithContextAndErrnoName) {
  auto r = addsContext();
  ASSERT_FALSE(r);
  r.error().context("up lab1");
  EXPECT_EQ(r.error().what(), "up lab1: node r1: creating veth h-r1-eth1: File exists (EEXIST)");
  EXPECT_EQ(r.error().kind(), Error::Kind::kConflict);
  EXPECT_EQ(r.error().exitCode(), 1);
}

TEST(Result, TryPassesValuesThrough) {
  EXPECT_EQ(passesValue().value(), 42);
  EXPECT_EQ(usesVoid().value(), 7);
}

TEST(Result, InvalidInputExitsWithTwo) {
  auto e = invalidInput("lab.yaml:3:5: nodes.r1: unknown key \"imgae\"").error();
  EXPECT_EQ(e.exitCode(), 2);
  EXPECT_EQ(e.what(), "lab.yaml:3:5: nodes.r1: unknown key \"imgae\"");
}

TEST(Result, KindFollowsErrno) {
  EXPECT_EQ(kindForErrno(ENOENT), Error::Kind::kNotFound);
  EXPECT_EQ(kindForErrno(EOPNOTSUPP), Error::Kind::kUnsupported);
  EXPECT_EQ(kindForErrno(EPERM), Error::Kind::kSystem);
  EXPECT_STREQ(errnoName(EEXIST), "EEXIST");
}

}  // namespace
}  // namespace netctl
