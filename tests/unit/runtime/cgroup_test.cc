// Layout parsing from /proc/self/cgroup and /proc/self/mountinfo text (v1, v2, hybrid), and the
// limit conversions. No real files are read.
#include "netctl/runtime/cgroup.h"

#include <gtest/gtest.h>

namespace netctl::cgroup {
namespace {

using detail::cpusToQuota;
using detail::layoutFrom;
using detail::parseMountinfo;
using detail::parseProcCgroup;
using detail::weightToShares;

const Hierarchy* find(const Layout& l, std::string_view mountPoint) {
  for (const auto& h : l.hierarchies)
    if (h.mountPoint == mountPoint) return &h;
  return nullptr;
}

// A systemd v1 machine: cpu and cpuacct co-mounted, name=systemd with extra options.
constexpr std::string_view kV1Cgroup =
    "12:pids:/user.slice/user-1000.slice/session-1.scope\n"
    "11:cpu,cpuacct:/user.slice\n"
    "10:memory:/user.slice/user-1000.slice/session-1.scope\n"
    "9:cpuset:/\n"
    "1:name=systemd:/user.slice/user-1000.slice/session-1.scope\n";
constexpr std::string_view kV1Mountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup "
    "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup "
    "rw,memory\n"
    "31 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup "
    "rw,pids\n"
    "32 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup "
    "rw,cpuset,clone_children\n";

// A pure v2 machine.
constexpr std::string_view kV2Cgroup = "0::/user.slice/user-1000.slice/session-2.scope\n";
constexpr std::string_view kV2Mountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

// This project's own machines: v1 controllers, one per mount, and cgroup2 at unified with
// only hugetlb. The memory cgroup differs from the others. The v1 mounts appear twice, as
// they do inside the test sandbox (the old /sys is covered, not unmounted).
constexpr std::string_view kHybridCgroup =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/344014f07d074860dbe3cb1b226d77be\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";
constexpr std::string_view kHybridMountBody =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CgroupParse, ProcCgroupLines) {
  auto e = parseProcCgroup("11:cpu,cpuacct:/a:b\n0::/\n");
  ASSERT_TRUE(e) << e.error().what();
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].id, 11);
  EXPECT_EQ((*e)[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ((*e)[0].path, "/a:b");  // a path may hold ':'
  EXPECT_EQ((*e)[1].id, 0);
  EXPECT_TRUE((*e)[1].controllers.empty());
  EXPECT_EQ((*e)[1].path, "/");
  EXPECT_FALSE(parseProcCgroup("garbage\n"));
  EXPECT_FALSE(parseProcCgroup("x:memory:/\n"));
}

TEST(CgroupParse, MountinfoKeepsOnlyCgroupMountsAndTheirControllers) {
  auto m = parseMountinfo(kV1Mountinfo);
  ASSERT_TRUE(m) << m.error().what();
  ASSERT_EQ(m->size(), 5u);
  EXPECT_EQ((*m)[0].mountPoint, "/sys/fs/cgroup/systemd");
  EXPECT_EQ((*m)[0].controllers, (std::vector<std::string>{"name=systemd"}));
  EXPECT_EQ((*m)[1].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ((*m)[4].controllers, (std::vector<std::string>{"cpuset"}));  // not clone_children
  EXPECT_FALSE((*m)[0].unified);
  EXPECT_FALSE(parseMountinfo("1 2 3 4\n"));
}

TEST(CgroupParse, MountinfoUnescapesMountPoints) {
  auto m = parseMountinfo("41 31 0:38 /a\\040b /mnt/cg\\040two rw - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(m) << m.error().what();
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].mountPoint, "/mnt/cg two");
  EXPECT_EQ((*m)[0].root, "/a b");
  EXPECT_TRUE((*m)[0].unified);
}

TEST(CgroupLayout, V1) {
  auto l = layoutFrom(kV1Cgroup, kV1Mountinfo, "");
  ASSERT_TRUE(l) << l.error().what();
  EXPECT_EQ(l->mode, Mode::kV1);
  EXPECT_EQ(l->hierarchies.size(), 5u);
  auto* cpu = find(*l, "/sys/fs/cgroup/cpu,cpuacct");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->ownPath, "/user.slice");
  EXPECT_EQ(cpu->controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  auto* mem = find(*l, "/sys/fs/cgroup/memory");
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ(mem->ownPath, "/user.slice/user-1000.slice/session-1.scope");
  EXPECT_EQ(find(*l, "/sys/fs/cgroup/cpuset")->ownPath, "/");
  EXPECT_EQ(find(*l, "/sys/fs/cgroup/systemd")->controllers, (std::vector<std::string>{"name=systemd"}));
}

TEST(CgroupLayout, V2) {
  auto l = layoutFrom(kV2Cgroup, kV2Mountinfo, "cpuset cpu io memory hugetlb pids rdma misc\n");
  ASSERT_TRUE(l) << l.error().what();
  EXPECT_EQ(l->mode, Mode::kV2);
  ASSERT_EQ(l->hierarchies.size(), 1u);
  const auto& h = l->hierarchies[0];
  EXPECT_TRUE(h.unified);
  EXPECT_EQ(h.mountPoint, "/sys/fs/cgroup");
  EXPECT_EQ(h.ownPath, "/user.slice/user-1000.slice/session-2.scope");
  EXPECT_EQ(h.controllers.size(), 8u);
  EXPECT_EQ(h.controllers.back(), "misc");
}

TEST(CgroupLayout, HybridWithDuplicatedMounts) {
  std::string mountinfo = std::string(kHybridMountBody) + std::string(kHybridMountBody);
  auto l = layoutFrom(kHybridCgroup, mountinfo, "hugetlb\n");
  ASSERT_TRUE(l) << l.error().what();
  EXPECT_EQ(l->mode, Mode::kHybrid);
  ASSERT_EQ(l->hierarchies.size(), 10u);  // 9 v1 + unified, each once
  EXPECT_EQ(find(*l, "/sys/fs/cgroup/memory")->ownPath, "/process_api/344014f07d074860dbe3cb1b226d77be");
  EXPECT_EQ(find(*l, "/sys/fs/cgroup/cpu")->ownPath, "/");
  EXPECT_EQ(find(*l, "/sys/fs/cgroup/cpuacct")->controllers, (std::vector<std::string>{"cpuacct"}));
  auto* un = find(*l, "/sys/fs/cgroup/unified");
  ASSERT_NE(un, nullptr);
  EXPECT_TRUE(un->unified);
  EXPECT_EQ(un->controllers, (std::vector<std::string>{"hugetlb"}));
  EXPECT_EQ(un->ownPath, "/");
}

TEST(CgroupLayout, OwnPathIsRelativeToTheMountRoot) {
  // A container whose cgroup mount shows only its own subtree.
  auto l = layoutFrom("5:memory:/docker/abc/inner\n",
                      "30 25 0:27 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "");
  ASSERT_TRUE(l) << l.error().what();
  EXPECT_EQ(l->hierarchies.at(0).ownPath, "/inner");
  auto outside = layoutFrom("5:memory:/elsewhere\n",
                            "30 25 0:27 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "");
  ASSERT_TRUE(outside);
  EXPECT_EQ(outside->hierarchies.at(0).ownPath, "");
  // "/docker/abcdef" is not under "/docker/abc".
  auto prefix = layoutFrom("5:memory:/docker/abcdef\n",
                           "30 25 0:27 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "");
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->hierarchies.at(0).ownPath, "");
}

TEST(CgroupLayout, NoCgroupMountIsUnsupported) {
  auto l = layoutFrom("0::/\n", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().kind(), Error::Kind::kUnsupported);
}

TEST(CgroupLimits, WeightToSharesAsRunc) {
  EXPECT_EQ(weightToShares(1), 2u);
  EXPECT_EQ(weightToShares(100), 2597u);  // 2 + 99*262142/9999
  EXPECT_EQ(weightToShares(10000), 262144u);
  EXPECT_EQ(weightToShares(5000), 2 + (4999ull * 262142) / 9999);
}

TEST(CgroupLimits, CpusToQuota) {
  EXPECT_EQ(cpusToQuota(0.5), (std::pair<int64_t, uint64_t>{50000, 100000}));
  EXPECT_EQ(cpusToQuota(1.5), (std::pair<int64_t, uint64_t>{150000, 100000}));
  EXPECT_EQ(cpusToQuota(2), (std::pair<int64_t, uint64_t>{200000, 100000}));
  EXPECT_EQ(cpusToQuota(0.001).first, 1000);  // the kernel's 1 ms minimum
}

TEST(CgroupLimits, ModeNames) {
  EXPECT_EQ(modeName(Mode::kV1), "v1");
  EXPECT_EQ(modeName(Mode::kV2), "v2");
  EXPECT_EQ(modeName(Mode::kHybrid), "hybrid");
}

TEST(CgroupParent, DefaultParentFollowsTheEnvironment) {
  ::setenv("NETCTL_CGROUP_PARENT", "netctl-test-x", 1);
  EXPECT_EQ(defaultParent(), "netctl-test-x");
  ::unsetenv("NETCTL_CGROUP_PARENT");
  EXPECT_EQ(defaultParent(), "netctl");
}

}  // namespace
}  // namespace netctl::cgroup
