// Pure parts of the runtime core: spec defaults and validation, capability names, the seccomp
// compiler and its cache, id maps, and the error transport of the launcher channel.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "netctl/base/fs.h"
#include "netctl/runtime/seccomp.h"
#include "netctl/runtime/spec.h"
#include "runtime/steps.h"
#include "runtime/sync.h"

namespace netctl::runtime {
namespace {

Spec minimal() {
  Spec spec;
  spec.name = "r1";
  spec.command = "/bin/true";
  return spec;
}

TEST(SpecTest, DefaultsAreTheSecureOnes) {
  Spec spec = minimal();
  EXPECT_TRUE(validate(spec));
  EXPECT_TRUE(spec.namespaces.pid && spec.namespaces.net && spec.namespaces.ipc && spec.namespaces.uts &&
              spec.namespaces.cgroup);
  EXPECT_FALSE(spec.namespaces.user.enabled);
  EXPECT_EQ(spec.rootfs.kind, RootfsKind::kHost);
  EXPECT_TRUE(spec.security.noNewPrivileges);
  EXPECT_EQ(spec.security.seccomp.mode, SeccompMode::kDefault);
  EXPECT_NE(std::find(spec.security.maskedPaths.begin(), spec.security.maskedPaths.end(), "/proc/kcore"),
            spec.security.maskedPaths.end());
  EXPECT_NE(std::find(spec.security.readonlyPaths.begin(), spec.security.readonlyPaths.end(), "/proc/sys"),
            spec.security.readonlyPaths.end());
  // Docker's 14 (CapEff 0xa80425fb) plus NET_ADMIN.
  auto mask = capabilityMask(spec.security);
  ASSERT_TRUE(mask);
  EXPECT_EQ(*mask, 0xa80425fbULL | (1ULL << CAP_NET_ADMIN));
}

TEST(SpecTest, CapabilityAddAndDrop) {
  Security s;
  s.capDrop = {"ALL"};
  s.capAdd = {"net_admin", "CAP_NET_RAW"};
  EXPECT_EQ(*capabilityMask(s), (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW));
  s = {};
  s.capDrop = {"MKNOD"};
  EXPECT_FALSE(*capabilityMask(s) & (1ULL << CAP_MKNOD));
  s.capAdd = {"ALL"};
  EXPECT_EQ(*capabilityMask(s), (1ULL << (CAP_LAST_CAP + 1)) - 1);
  s.capAdd = {"NOT_A_CAP"};
  auto bad = capabilityMask(s);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), Error::Kind::kInvalidInput);
  EXPECT_NE(bad.error().what().find("cap_add: unknown capability NOT_A_CAP"), std::string::npos);
  EXPECT_EQ(capabilityName(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
  EXPECT_EQ(*capabilityFromName("sys_admin"), CAP_SYS_ADMIN);
}

TEST(SpecTest, ValidationNamesTheField) {
  auto expectInvalid = [](const Spec& spec, const std::string& needle) {
    auto r = validate(spec);
    ASSERT_FALSE(r) << needle;
    EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput);
    EXPECT_NE(r.error().what().find(needle), std::string::npos) << r.error().what();
  };
  Spec s = minimal();
  s.name = "-bad";
  expectInvalid(s, "name");
  s = minimal();
  s.name = "a/b";
  expectInvalid(s, "name");
  s = minimal();
  s.command.clear();
  expectInvalid(s, "command");
  s = minimal();
  s.cwd = "relative";
  expectInvalid(s, "cwd");
  s = minimal();
  s.binds.push_back({"/srv", "/mnt/../../etc"});
  expectInvalid(s, "bind");
  s = minimal();
  s.sysctls["kernel.panic"] = "1";
  expectInvalid(s, "only net.*");
  s = minimal();
  s.rlimits.push_back({RLIMIT_NOFILE, 10, 5});
  expectInvalid(s, "soft above hard");
  s = minimal();
  s.rootfs = {RootfsKind::kDirectory, "", false};
  expectInvalid(s, "rootfs");
  s = minimal();
  s.namespaces.user.uidMap = {{0, 100000, 0}};
  expectInvalid(s, "uid map");
  s = minimal();
  s.security.seccomp.mode = SeccompMode::kFile;
  expectInvalid(s, "seccomp");
}

TEST(SpecTest, HostsFile) {
  auto text = hostsFileText("r1", {{"10.0.0.2", {"r2", "r2.lab"}}});
  EXPECT_NE(text.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(text.find("127.0.1.1\tr1\n"), std::string::npos);
  EXPECT_NE(text.find("10.0.0.2\tr2\tr2.lab\n"), std::string::npos);
}

TEST(SpecTest, IdMaps) {
  UserNamespace user;
  user.enabled = true;
  auto maps = user_ns::uidMapOf(user);
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(user_ns::hostIdOf(maps, 0), 100000);
  EXPECT_EQ(user_ns::hostIdOf(maps, 1000), 101000);
  EXPECT_EQ(user_ns::hostIdOf(maps, 65536), -1);
}

TEST(SeccompTest, TheBuiltInProfileIsTheShippedFile) {
  auto file = fs::readFile(std::string(NETCTL_SOURCE_DIR) + "/configs/seccomp/default.json");
  ASSERT_TRUE(file);
  EXPECT_EQ(*file, seccomp::defaultProfile());
}

TEST(SeccompTest, DefaultProfileCompiles) {
  auto p = seccomp::compile(seccomp::defaultProfile(), 0);
  ASSERT_TRUE(p) << p.error().what();
  ASSERT_FALSE(p->empty());
  EXPECT_EQ(p->bpf->size() % sizeof(sock_filter), 0u);
  EXPECT_EQ(p->hash.size(), 16u);
}

TEST(SeccompTest, BadProfilesSayWhy) {
  auto notJson = seccomp::compile("{", 0);
  ASSERT_FALSE(notJson);
  EXPECT_EQ(notJson.error().kind(), Error::Kind::kInvalidInput);
  auto badAction = seccomp::compile(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["keyctl"],"action":"NOPE"}]})", 0);
  ASSERT_FALSE(badAction);
  EXPECT_NE(badAction.error().what().find("syscalls[0]: unsupported action NOPE"), std::string::npos)
      << badAction.error().what();
  auto badOp = seccomp::compile(
      R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"LIKE"}]}]})", 0);
  ASSERT_FALSE(badOp);
  EXPECT_NE(badOp.error().what().find("unsupported comparison LIKE"), std::string::npos);
}

TEST(SeccompTest, DockerCapabilityConditionsDecideRules) {
  const char* profile = R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
    {"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"},
    {"names":["reboot"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_BOOT"]}}]})";
  auto without = seccomp::compile(profile, 0);
  auto with = seccomp::compile(profile, 1ULL << CAP_SYS_BOOT);
  ASSERT_TRUE(without && with);
  EXPECT_LT(without->bpf->size(), with->bpf->size());
  EXPECT_NE(without->hash, with->hash);
}

TEST(SeccompTest, CompiledOnceThenCached) {
  std::string root = fmt::format("/tmp/netctl-seccomp-unit-{}", ::getpid());
  std::string profile = R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["acct"],"action":"SCMP_ACT_ERRNO"}]})";
  uint64_t before = seccomp::compileCount();
  auto first = seccomp::load(profile, 0, root);
  ASSERT_TRUE(first) << first.error().what();
  EXPECT_EQ(seccomp::compileCount(), before + 1);
  auto second = seccomp::load(profile, 0, root);
  ASSERT_TRUE(second);
  EXPECT_EQ(seccomp::compileCount(), before + 1);
  EXPECT_EQ(second->bpf.get(), first->bpf.get());  // the very same bytes, from memory
  auto onDisk = fs::readFile(fmt::format("{}/seccomp/{}.bpf", root, first->hash));
  ASSERT_TRUE(onDisk);
  EXPECT_EQ(*onDisk, *first->bpf);
  auto cached = seccomp::loadCached(first->hash, root);
  ASSERT_TRUE(cached);
  EXPECT_EQ(*cached->bpf, *first->bpf);
  std::filesystem::remove_all(root);
}

TEST(SyncTest, ErrorsCrossWithTheirContext) {
  auto pair = sync::makePair();
  ASSERT_TRUE(pair);
  Error e(Error::Kind::kNotFound, ENOENT, "opening /x");
  e.context("rootfs").context("creating container r1");
  sync::sendError(pair->child.get(), e);
  auto got = sync::receive(pair->parent.get());
  ASSERT_TRUE(got);
  ASSERT_EQ(got->msg, sync::Msg::kError);
  ASSERT_TRUE(got->error);
  EXPECT_EQ(got->error->what(), e.what());
  EXPECT_EQ(got->error->kind(), Error::Kind::kNotFound);
  EXPECT_EQ(got->pid, ::getpid());
  ASSERT_TRUE(sync::send(pair->child.get(), sync::Msg::kReady));
  EXPECT_EQ(sync::receive(pair->parent.get())->msg, sync::Msg::kReady);
  pair->child.reset();
  EXPECT_FALSE(sync::receive(pair->parent.get()));
}

}  // namespace
}  // namespace netctl::runtime
