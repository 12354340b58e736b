// podman with its CNI backend and a conflist whose plugin is netctl: a container started by
// podman gets netctl's address (read back from the container's netns and from host-local's
// files) and reaches another podman container; `podman rm` gives the address back.
//
// Everything stays in the test's sandbox: podman's configuration (containers.conf with
// network_backend = "cni", cni_plugin_dirs holding a `netctl` link to the binary under test,
// network_config_dir holding the conflist), its storage root and run root live under the
// sandbox's state root; libcni's result cache (/var/lib/cni, not configurable in podman 4.3)
// lands on a tmpfs mounted over /var/lib in the sandbox's private mount namespace for the
// rest of the process; the
// containers' cgroups go under the sandbox's cgroup parent (a relative --cgroup-parent, which
// runc resolves against its own cgroup in every hierarchy; conmon stays in the test's cgroup).
// No image is needed: the rootfs is a directory whose /usr is the host's, bind-mounted
// read-only.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/run.h"
#include "support/sandbox.h"

namespace {

using netctl::testing::Output;
using netctl::testing::run;
using netctl::testing::runWith;
using nlohmann::json;
namespace fs = std::filesystem;

std::string root() { return netctl::sandbox::info().stateRoot; }

void write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

std::string which(const std::string& prog) {
  Output o = run({"sh", "-c", "command -v " + prog});
  return o.exitCode == 0 ? o.out.substr(0, o.out.find('\n')) : "";
}

// Mounts made for the test, undone (lazily, in reverse order) when it ends.
struct Mounts {
  std::vector<std::string> points;
  bool add(const char* src, const std::string& dst, const char* type, unsigned long flags) {
    if (::mount(src, dst.c_str(), type, flags, nullptr) != 0) return false;
    points.push_back(dst);
    return true;
  }
  ~Mounts() {
    for (auto it = points.rbegin(); it != points.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  }
};

// A tmpfs over /var/lib for the rest of the process (never unmounted: conmon runs `podman
// container cleanup` asynchronously after a container exits, and libcni's cache writes of a
// late one must not reach the disk below).
bool privateVarLib() {
  static bool done = ::mount("tmpfs", "/var/lib", "tmpfs", 0, nullptr) == 0;
  return done;
}

struct Podman {
  std::string dir;
  std::vector<std::string> env;
  Output operator()(std::vector<std::string> args) const {
    args.insert(args.begin(), "podman");
    return runWith(args, env, "");
  }
  // `podman run` options every container of the test gets.
  std::vector<std::string> runOpts() const {
    return {"--network",    "labnet",
            "--cgroups",    "no-conmon",      "--cgroup-parent", netctl::sandbox::info().cgroupParent + "/podman",
            // podman's default limits (nofile 1048576, nproc 4194304) may exceed the hard
            // limits podman and runc run with, and without CAP_SYS_RESOURCE runc cannot raise
            // them: the containers get small limits every host allows.
            "--ulimit",     "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
            "--cap-add",    "NET_RAW",
            // --rootfs is a flag: the rootfs is the first argument, and podman stops reading
            // options there, so it comes last.
            "--rootfs",     dir + "/rootfs"};
  }
};

TEST(CniPodman, ContainerGetsNetctlAddressAndReachesAnother) {
  if (which("podman").empty()) GTEST_SKIP() << "podman is not installed (Debian package podman)";
  if (which("runc").empty()) GTEST_SKIP() << "runc is not installed (podman needs it here: crun 1.8 "
                                             "refuses hybrid cgroup hosts)";
  if (which("conmon").empty()) GTEST_SKIP() << "conmon is not installed (Debian package conmon)";

  Podman podman{root() + "/podman", {}};
  const std::string& d = podman.dir;
  for (auto sub : {"rootfs/usr", "rootfs/etc", "rootfs/proc", "rootfs/sys", "rootfs/dev", "rootfs/tmp", "rootfs/run",
                   "rootfs/root", "plugins", "net", "storage", "runroot", "tmp", "ipam"})
    fs::create_directories(d + "/" + sub);
  Mounts mounts;
  ASSERT_TRUE(mounts.add("/usr", d + "/rootfs/usr", nullptr, MS_BIND | MS_REC)) << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, (d + "/rootfs/usr").c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr), 0)
      << std::strerror(errno);
  ASSERT_TRUE(privateVarLib()) << std::strerror(errno);
  for (auto l : {"bin", "lib", "lib64", "sbin"})
    if (fs::exists(std::string("/usr/") + l)) fs::create_symlink(std::string("usr/") + l, d + "/rootfs/" + l);
  fs::copy_file("/etc/passwd", d + "/rootfs/etc/passwd");
  fs::copy_file("/etc/group", d + "/rootfs/etc/group");
  fs::create_symlink(NETCTL_BINARY, d + "/plugins/netctl");

  json conflist = {
      {"cniVersion", "0.4.0"},
      {"name", "labnet"},
      {"plugins",
       {{{"type", "netctl"},
         {"bridge", "cni-lab0"},
         {"isGateway", true},
         {"hairpinMode", true},
         {"ipam",
          {{"type", "host-local"},
           {"dataDir", d + "/ipam"},
           {"ranges", {{{{"subnet", "10.97.0.0/24"}, {"gateway", "10.97.0.1"}}}}},
           {"routes", {{{"dst", "0.0.0.0/0"}}}}}},
         {"capabilities", {{"portMappings", true}, {"ips", true}, {"mac", true}}}}}}};
  write(d + "/net/labnet.conflist", conflist.dump(2));
  write(d + "/storage.conf", "[storage]\ndriver = \"vfs\"\ngraphroot = \"" + d + "/storage\"\nrunroot = \"" + d +
                                 "/runroot\"\n");
  write(d + "/containers.conf", "[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"" + d +
                                    "/plugins\"]\nnetwork_config_dir = \"" + d +
                                    "/net\"\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n"
                                    "events_logger = \"file\"\nevents_logfile_path = \"" + d +
                                    "/events.log\"\ntmp_dir = \"" + d + "/tmp\"\n");
  podman.env = {"CONTAINERS_CONF=" + d + "/containers.conf", "CONTAINERS_STORAGE_CONF=" + d + "/storage.conf",
                "CONTAINERS_REGISTRIES_CONF=" + d + "/registries.conf"};
  write(d + "/registries.conf", "");

  // The network podman sees is netctl's conflist.
  Output ls = podman({"network", "ls", "--format", "{{.Name}} {{.Driver}}"});
  ASSERT_EQ(ls.exitCode, 0) << ls.err;
  EXPECT_NE(ls.out.find("labnet netctl"), std::string::npos) << ls.out;

  std::vector<std::string> runA = {"run", "-d", "--name", "a"};
  for (auto& o : podman.runOpts()) runA.push_back(o);
  runA.insert(runA.end(), {"/usr/bin/sleep", "120"});
  Output a = podman(runA);
  ASSERT_EQ(a.exitCode, 0) << a.out << a.err;
  std::string idA = a.out.substr(0, a.out.find('\n'));

  Output insp = podman({"inspect", "a"});
  ASSERT_EQ(insp.exitCode, 0) << insp.err;
  json ij = json::parse(insp.out, nullptr, false);
  ASSERT_TRUE(ij.is_array() && !ij.empty()) << insp.out;
  std::string ipA = ij[0]["NetworkSettings"]["Networks"]["labnet"]["IPAddress"];
  int pidA = ij[0]["State"]["Pid"];
  EXPECT_TRUE(ipA.starts_with("10.97.0.")) << ipA;

  // netctl's IPAM holds the address for podman's container id; the container's netns has it on
  // eth0, whose host end is a port of netctl's bridge.
  std::ifstream held(d + "/ipam/labnet/" + ipA);
  std::string owner((std::istreambuf_iterator<char>(held)), {});
  EXPECT_TRUE(owner.starts_with(idA + "\r\neth0")) << "host-local file for " << ipA << ": " << owner;
  Output addr = run({"nsenter", "-t", std::to_string(pidA), "-n", "ip", "-j", "addr", "show", "eth0"});
  EXPECT_NE(addr.out.find("\"local\":\"" + ipA + "\",\"prefixlen\":24"), std::string::npos) << addr.out;
  json ports = json::parse(run({"ip", "-j", "link", "show", "master", "cni-lab0"}).out, nullptr, false);
  EXPECT_EQ(ports.size(), 1u);

  // A second container reaches the first.
  std::vector<std::string> runB = {"run", "--rm", "--name", "b"};
  for (auto& o : podman.runOpts()) runB.push_back(o);
  runB.insert(runB.end(), {"/usr/bin/ping", "-c1", "-W3", ipA});
  Output b = podman(runB);
  EXPECT_EQ(b.exitCode, 0) << b.out << b.err;
  EXPECT_NE(b.out.find("1 received"), std::string::npos) << b.out;

  // podman rm: DEL through netctl gives the address back and removes the port.
  Output rm = podman({"rm", "-f", "-t", "0", "a"});
  EXPECT_EQ(rm.exitCode, 0) << rm.err;
  EXPECT_FALSE(fs::exists(d + "/ipam/labnet/" + ipA));
  EXPECT_EQ(run({"ip", "link", "show", "master", "cni-lab0"}).out, "");
  (void)podman({"rm", "-a", "-f", "-t", "0"});
}

}  // namespace
