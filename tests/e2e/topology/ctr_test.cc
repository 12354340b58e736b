// netctl as the CNI plugin of containerd, driven by `ctr run --cni` as a kubelet's runtime
// would drive it (docs/kubernetes.md). Everything stays in the sandbox: a private containerd
// (its root, state and socket under a temporary directory), the conflist and the plugin
// directory bind-mounted over /etc/cni/net.d and /usr/lib/cni (ctr 1.6 reads only fixed
// paths) in the sandbox's private mount namespace, the host's root filesystem bind-mounted as
// the container's --rootfs (no image to pull), and the container's cgroup under the test's
// cgroup parent. Skips, naming what is missing, when containerd is not installed.
#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "lab_support.h"

using namespace labtest;

namespace {

bool have(const std::string& tool) { return sh("command -v " + tool).rc == 0; }

TEST(Containerd, CtrRunWithNetctlAsThePlugin) {
  for (const char* tool : {"containerd", "ctr", "runc", "containerd-shim-runc-v2"})
    if (!have(tool))
      GTEST_SKIP() << tool << " is not installed (Debian package containerd, with runc)";
  if (!std::filesystem::is_directory("/etc/cni/net.d"))
    GTEST_SKIP() << "/etc/cni/net.d does not exist to be mounted over (ctr reads only that path)";
  std::string pluginDir = std::filesystem::is_directory("/opt/cni/bin") ? "/opt/cni/bin"
                          : std::filesystem::is_directory("/usr/lib/cni") ? "/usr/lib/cni"
                                                                          : "";
  if (pluginDir.empty())
    GTEST_SKIP() << "neither /opt/cni/bin nor /usr/lib/cni exists to be mounted over";

  char tmpl[] = "/tmp/netctl-ctr-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string t = tmpl;
  std::filesystem::create_directories(t + "/netd");
  std::filesystem::create_directories(t + "/bin");
  std::filesystem::create_directories(t + "/rootfs");
  std::filesystem::create_symlink(NETCTL_BINARY, t + "/bin/netctl");
  std::ofstream(t + "/netd/10-netctl.conflist") << fmt::format(
      R"({{"cniVersion": "1.0.0", "name": "ctrnet", "plugins": [{{"type": "netctl", "mode": "bridge",
  "bridge": "cni0", "isGateway": true, "ipMasq": false,
  "ipam": {{"type": "host-local", "ranges": [[{{"subnet": "10.77.0.0/24"}}]], "dataDir": "{}/ipam"}}}}]}})",
      t);
  std::ofstream(t + "/config.toml") << "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n";
  // The sandbox's mount namespace is private: these mounts are the test's only.
  // libcni keeps its results cache in /var/lib/cni whatever the config says: a tmpfs over
  // /var/lib keeps it off the machine's disk.
  ASSERT_EQ(sh("mount --bind " + t + "/netd /etc/cni/net.d && mount --bind " + t + "/bin " + pluginDir +
               " && mount --bind / " + t + "/rootfs && mount -t tmpfs tmpfs /var/lib").rc, 0);
  auto pidText = sh(fmt::format("containerd --config {0}/config.toml --root {0}/root --state {0}/state "
                                "--address {0}/c.sock >{0}/containerd.log 2>&1 & echo $!", t)).out;
  pid_t pid = std::atoi(pidText.c_str());
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 100 && !std::filesystem::exists(t + "/c.sock"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

  std::string parent = std::getenv("NETCTL_CGROUP_PARENT") ? std::getenv("NETCTL_CGROUP_PARENT") : "netctl";
  // A relative cgroup path: runc puts it under its own cgroup (the test's) in every hierarchy.
  auto run = sh(fmt::format(
      "timeout 60 ctr --address {0}/c.sock -n netctl run --rm --cni --cgroup {1}/ctr-c1 "
      "--env PATH=/usr/sbin:/usr/bin:/sbin:/bin --rootfs {0}/rootfs c1 /bin/sh -c "
      "'ip -4 -o addr show eth0; ping -c1 -W1 10.77.0.1'",
      t, parent));
  EXPECT_EQ(run.rc, 0) << run.out << sh("tail -20 " + t + "/containerd.log").out;
  EXPECT_NE(run.out.find("inet 10.77.0.2/24"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("1 received"), std::string::npos) << run.out;
  // The bridge netctl made, read back from the kernel; after --rm, DEL released the veth and
  // the address (host-local's files), leaving the bridge as the reference plugin does.
  EXPECT_EQ(sh("ip -o link show cni0").rc, 0);
  EXPECT_EQ(sh("ip -o link show type veth").out, "");
  EXPECT_FALSE(std::filesystem::exists(t + "/ipam/ctrnet/10.77.0.2"));

  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) {
    ::waitpid(pid, nullptr, WNOHANG);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sh("umount " + t + "/rootfs; umount /etc/cni/net.d; umount /var/lib; umount " + pluginDir);
  sh("ip link del cni0");
  // Never a recursive removal over rootfs (the host's root while it is mounted): only the
  // directories this test filled, then rmdir, which fails on a mount point.
  std::error_code ec;
  for (const char* d : {"/root", "/state", "/ipam", "/netd", "/bin"}) std::filesystem::remove_all(t + d, ec);
  EXPECT_TRUE(std::filesystem::remove(t + "/rootfs", ec)) << ec.message();
  for (const char* f : {"/config.toml", "/containerd.log", "/c.sock", "/c.sock.ttrpc"})
    std::filesystem::remove(t + f, ec);
  std::filesystem::remove(t, ec);
  expectClean("after ctr run --cni");
}

}  // namespace
