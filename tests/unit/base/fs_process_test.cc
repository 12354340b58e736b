#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "netctl/base/fs.h"
#include "netctl/base/process.h"

namespace netctl {
namespace {

std::string tempDir() {
  char tmpl[] = "/tmp/netctl-unit-XXXXXX";
  return ::mkdtemp(tmpl);
}

TEST(Fs, WriteReadAtomicAndMakeDirs) {
  std::string dir = tempDir();
  ASSERT_TRUE(fs::makeDirs(dir + "/a/b/c"));
  ASSERT_TRUE(fs::makeDirs(dir + "/a/b/c"));  // idempotent
  std::string file = dir + "/a/b/c/f";
  ASSERT_TRUE(fs::writeFileAtomic(file, "hello"));
  EXPECT_EQ(fs::readFile(file).value(), "hello");
  EXPECT_FALSE(fs::exists(file + ".tmp"));
  auto missing = fs::readFile(dir + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), Error::Kind::kNotFound);
  EXPECT_NE(missing.error().what().find(dir + "/nope"), std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}

TEST(ChildProcess, DestructionKillsAndReaps) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  { ChildProcess child(pid); }
  // Reaped: the pid no longer names a child of ours.
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ChildProcess, WaitReturnsExitCode) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(3);
  ChildProcess child(pid);
  auto status = child.wait();
  ASSERT_TRUE(status);
  EXPECT_EQ(exitCodeOf(*status), 3);
  EXPECT_FALSE(child.valid());
}

}  // namespace
}  // namespace netctl
