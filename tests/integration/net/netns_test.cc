#include "netctl/net/netns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "netctl/base/fs.h"
#include "support/sandbox.h"

namespace netctl {
namespace {

TEST(Netns, CreateNamedIsVisibleToIpNetnsAndDistinct) {
  const auto& root = sandbox::info().stateRoot;
  auto ns = netns::createNamed(root, "t-alpha");
  ASSERT_TRUE(ns) << ns.error().what();
  auto here = netns::current();
  ASSERT_TRUE(here);
  EXPECT_NE(ns->inode().value(), here->inode().value());
  // `ip netns` lists /run/netns; our entry is a link to the pinned namespace.
  auto viaLink = netns::openPath("/run/netns/t-alpha");
  ASSERT_TRUE(viaLink) << viaLink.error().what();
  EXPECT_EQ(viaLink->inode().value(), ns->inode().value());

  auto again = netns::createNamed(root, "t-alpha");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind(), Error::Kind::kConflict);

  ASSERT_TRUE(netns::removeNamed(root, "t-alpha"));
  EXPECT_FALSE(fs::exists("/run/netns/t-alpha"));
  EXPECT_FALSE(fs::exists(netns::namedPath(root, "t-alpha")));
  EXPECT_TRUE(netns::removeNamed(root, "t-alpha"));  // already gone is fine
}

TEST(Netns, RunInEntersAndReturns) {
  auto ns = netns::createNamed(sandbox::info().stateRoot, "t-beta");
  ASSERT_TRUE(ns);
  ino_t outside = netns::current()->inode().value();
  auto inside = netns::runIn(*ns, []() -> Result<ino_t> { return netns::current()->inode(); });
  ASSERT_TRUE(inside);
  EXPECT_EQ(*inside, ns->inode().value());
  EXPECT_EQ(netns::current()->inode().value(), outside);
  ASSERT_TRUE(netns::removeNamed(sandbox::info().stateRoot, "t-beta"));
}

TEST(Netns, OpenPidAndMissingPath) {
  auto self = netns::openPid(::getpid());
  ASSERT_TRUE(self);
  EXPECT_EQ(self->inode().value(), netns::current()->inode().value());
  auto missing = netns::openPath("/run/netns/none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), Error::Kind::kNotFound);
}

}  // namespace
}  // namespace netctl

#include "netctl/net/sysctl.h"

namespace netctl {
namespace {

TEST(Sysctl, SetIsPerNamespaceAndReturnsThePreviousValue) {
  auto ns = netns::createNamed(sandbox::info().stateRoot, "t-sysctl");
  ASSERT_TRUE(ns);
  auto here = netns::current().value();
  std::string outside = sysctl::get(here, "net.ipv4.ip_forward").value();
  auto previous = sysctl::set(*ns, "net.ipv4.ip_forward", "1");
  ASSERT_TRUE(previous) << previous.error().what();
  EXPECT_EQ(*previous, "0");
  EXPECT_EQ(sysctl::get(*ns, "net.ipv4.ip_forward").value(), "1");
  EXPECT_EQ(sysctl::get(here, "net.ipv4.ip_forward").value(), outside);
  auto bad = sysctl::set(*ns, "net.ipv4.conf.nosuchif.rp_filter", "2");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().what().find("net.ipv4.conf.nosuchif.rp_filter"), std::string::npos);
  ASSERT_TRUE(netns::removeNamed(sandbox::info().stateRoot, "t-sysctl"));
}

}  // namespace
}  // namespace netctl

namespace netctl {
namespace {

TEST(Netns, AnonymousIsNewAndLeavesTheCallerWhereItWas) {
  ino_t before = netns::current()->inode().value();
  auto scratch = netns::createAnonymous();
  ASSERT_TRUE(scratch) << scratch.error().what();
  EXPECT_NE(scratch->inode().value(), before);
  EXPECT_EQ(netns::current()->inode().value(), before);
}

}  // namespace
}  // namespace netctl

namespace netctl {
namespace {

TEST(Netns, RemoveAllInReleasesEveryNamespaceOfTheDirectory) {
  std::string dir = sandbox::info().stateRoot + "/group-test";
  std::vector<ino_t> inodes;
  for (int i = 0; i < 5; ++i) {
    auto ns = netns::createIn(dir, fmt::format("g{}", i));
    ASSERT_TRUE(ns) << ns.error().what();
    inodes.push_back(ns->inode().value());
  }
  EXPECT_TRUE(fs::exists("/run/netns/g3"));
  ASSERT_TRUE(netns::removeAllIn(dir));
  EXPECT_FALSE(fs::exists("/run/netns/g3"));
  EXPECT_FALSE(fs::exists(dir));
  // Nothing of the group is mounted any more.
  auto mounts = fs::readFile("/proc/self/mountinfo").value();
  EXPECT_EQ(mounts.find(dir), std::string::npos);
  EXPECT_TRUE(netns::removeAllIn(dir));  // already gone
}

}  // namespace
}  // namespace netctl

namespace netctl {
namespace {

TEST(Netns, PinInKeepsAnExistingNamespaceUnderAName) {
  std::string dir = sandbox::info().stateRoot + "/pin-test";
  auto scratch = netns::createAnonymous();
  ASSERT_TRUE(scratch);
  ASSERT_TRUE(netns::pinIn(dir, "pinned", *scratch));
  auto viaLink = netns::openPath("/run/netns/pinned");
  ASSERT_TRUE(viaLink) << viaLink.error().what();
  EXPECT_EQ(viaLink->inode().value(), scratch->inode().value());
  EXPECT_EQ(netns::pinIn(dir, "pinned", *scratch).error().kind(), Error::Kind::kConflict);
  ASSERT_TRUE(netns::removeAllIn(dir));
  EXPECT_FALSE(fs::exists("/run/netns/pinned"));
}

}  // namespace
}  // namespace netctl
