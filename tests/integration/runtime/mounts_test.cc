// The spec's own mounts (binds and tmpfs), checked from inside the node by the probe and from the
// host where a write should or should not land.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "netctl/base/fs.h"
#include "netctl/runtime/container.h"
#include "netctl/runtime/spec.h"

#include "fixture.h"

namespace netctl::runtime {
namespace {

using namespace fixture;

TEST_F(RuntimeTest, BindsLandOnTheNodesTmpfsAndKeepReadonly) {
  // Both under the node's own /tmp and /run tmpfs: mounted in the spec's order they were hidden.
  std::string dir = fmt::format("{}/runtime-binds-{}", NETCTL_BUILD_DIR, ::getpid());
  ASSERT_TRUE(fs::makeDirs(dir, 0755));
  struct RemoveAll {
    std::string dir;
    ~RemoveAll() { std::filesystem::remove_all(dir); }
  } removeAll{dir};
  ASSERT_TRUE(fs::writeFile(dir + "/f", "from-host", O_CREAT | O_TRUNC));
  Spec spec;
  spec.name = "bind1";
  spec.command = "sleep";
  spec.args = {"1000"};
  spec.binds.push_back({dir, "/tmp/data", false});
  spec.binds.push_back({dir + "/f", "/run/netctl-ro/f", true});
  bindProbe(spec);
  ASSERT_TRUE(createStarted(spec));

  EXPECT_EQ(execProbe("bind1", "cat", {"/tmp/data/f"}), std::make_pair(0, std::string("from-host")));
  EXPECT_EQ(execProbe("bind1", "cat", {"/run/netctl-ro/f"}), std::make_pair(0, std::string("from-host")));
  // A write through the read-write bind reaches the host; one through the read-only bind fails.
  EXPECT_EQ(execProbe("bind1", "write", {"/tmp/data/g", "from-node"}).first, 0);
  EXPECT_EQ(fs::readFile(dir + "/g").value_or("<missing>"), "from-node");
  EXPECT_EQ(execProbe("bind1", "write", {"/run/netctl-ro/f", "overwritten"}).first, 1);
  EXPECT_EQ(fs::readFile(dir + "/f").value_or("<missing>"), "from-host");
  // The tmpfs under the binds is still the node's own: what it writes there stays inside.
  EXPECT_EQ(execProbe("bind1", "write", {"/tmp/own", "x"}).first, 0);
  EXPECT_EQ(execProbe("bind1", "cat", {"/tmp/own"}).second, "x");
}

}  // namespace
}  // namespace netctl::runtime
