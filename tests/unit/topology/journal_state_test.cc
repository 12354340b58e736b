#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "netctl/base/fs.h"
#include "netctl/topology/journal.h"
#include "netctl/topology/state.h"

namespace netctl {
namespace {

class TempRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netctl-state-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + root_).c_str()); }
  std::string root_;
};

using JournalTest = TempRoot;
using StateTest = TempRoot;

TEST_F(JournalTest, RecordsReadBackInOrder) {
  std::string path = root_ + "/journal";
  {
    auto w = journal::Writer::open(path);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->record({"netns", "lab1-r1", {}}));
    std::vector<journal::Entry> batch = {{"link", "h-r1-eth1", {{"netns", "host"}}},
                                         {"sysctl", "net.ipv4.ip_forward", {{"previous", "0"}}}};
    ASSERT_TRUE(w->record(batch));
  }
  auto entries = journal::read(path);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].kind, "netns");
  EXPECT_EQ((*entries)[1].data["netns"], "host");
  EXPECT_EQ((*entries)[2].data["previous"], "0");
}

TEST_F(JournalTest, TornTailIsIgnoredAndMissingFileIsEmpty) {
  std::string path = root_ + "/journal";
  EXPECT_TRUE(journal::read(path)->empty());
  ASSERT_TRUE(fs::writeFile(path, "{\"kind\":\"netns\",\"id\":\"a\",\"data\":{}}\n{\"kind\":\"li", O_CREAT));
  auto entries = journal::read(path);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].id, "a");
}

TEST_F(JournalTest, CorruptLineIsAnErrorNamingTheFile) {
  std::string path = root_ + "/journal";
  ASSERT_TRUE(fs::writeFile(path, "garbage\n", O_CREAT));
  auto entries = journal::read(path);
  ASSERT_FALSE(entries);
  EXPECT_NE(entries.error().what().find(path), std::string::npos);
}

TEST_F(JournalTest, ConcurrentWritersNeverInterleaveLines) {
  std::string path = root_ + "/journal";
  auto w = journal::Writer::open(path);
  ASSERT_TRUE(w);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(w->record({"link", fmt::format("{}-{}", t, i), {}}));
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(journal::read(path)->size(), 200u);
}

TEST_F(StateTest, LockIsExclusiveAndLabsAreListed) {
  {
    auto first = state::LabLock::acquire(root_, "lab1");
    ASSERT_TRUE(first);
    // flock conflicts between open file descriptions, even in one process.
    auto second = state::LabLock::acquire(root_, "lab1");
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind(), Error::Kind::kConflict);
    EXPECT_NE(second.error().what().find("lab1"), std::string::npos);
    ASSERT_TRUE(state::LabLock::acquire(root_, "lab2"));
  }
  EXPECT_EQ(state::listLabs(root_).value(), (std::vector<std::string>{"lab1", "lab2"}));
  ASSERT_TRUE(state::LabLock::acquire(root_, "lab1"));  // released
  ASSERT_TRUE(state::removeLab(root_, "lab1"));
  ASSERT_TRUE(state::removeLab(root_, "lab1"));
  EXPECT_EQ(state::listLabs(root_).value(), (std::vector<std::string>{"lab2"}));
}

}  // namespace
}  // namespace netctl
