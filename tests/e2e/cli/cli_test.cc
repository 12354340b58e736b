// The verbs that need no lab: doctor, validate, and the errors of exec and the command line.
#include <gtest/gtest.h>

#include <dirent.h>

#include <set>

#include <nlohmann/json.hpp>

#include "netctl/net/link.h"
#include "netctl/net/netlink.h"
#include "support/run.h"

namespace netctl {
namespace {

using testing::netctl;

std::vector<std::string> hostLinks() {
  auto s = nl::Socket::open().value();
  std::vector<std::string> names;
  auto links = link::list(s).value();
  for (const auto& l : links) names.push_back(l.name);
  return names;
}

TEST(Doctor, ReportsEveryAreaAsJsonAndCreatesNothingHere) {
  auto before = hostLinks();
  auto r = netctl({"doctor", "--output", "json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  std::set<std::string> names;
  for (const auto& c : doc["checks"]) names.insert(c["name"].get<std::string>());
  for (const char* want : {"bridge", "veth", "macvlan", "vxlan", "dummy", "nftables NAT", "overlayfs",
                           "user namespaces", "seccomp", "cgroups", "ip_forward", "qdisc tbf", "qdisc netem"})
    EXPECT_TRUE(names.count(want)) << "doctor does not check " << want;
  for (const auto& c : doc["checks"]) {
    // A feature the kernel lacks is named by its kernel option, never just "failed".
    if (c["status"] != "ok" && c["name"] == "dummy") {
      EXPECT_NE(c["detail"].get<std::string>().find("CONFIG_DUMMY"), std::string::npos);
    }
    if (c["status"] != "ok" && c["name"] == "qdisc netem") {
      EXPECT_NE(c["detail"].get<std::string>().find("CONFIG_NET_SCH_NETEM"), std::string::npos);
    }
  }
  // The probes ran in a scratch namespace: this namespace has the same links as before.
  EXPECT_EQ(hostLinks(), before);
}

TEST(Validate, ValidExampleAndInvalidFileWithLocation) {
  auto ok = netctl({"validate", NETCTL_SOURCE_DIR "/configs/examples/quickstart.yaml"});
  EXPECT_EQ(ok.exitCode, 0) << ok.err;
  EXPECT_NE(ok.out.find("is valid"), std::string::npos);

  auto bad = netctl({"validate", NETCTL_SOURCE_DIR "/tests/unit/topology/invalid/01-unknown-top-key.yaml"});
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_NE(bad.err.find("01-unknown-top-key.yaml:3:1:"), std::string::npos) << bad.err;
}

TEST(Validate, EveryInvalidCorpusFileExitsWithTwo) {
  std::string dir = NETCTL_SOURCE_DIR "/tests/unit/topology/invalid";
  DIR* d = ::opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  int files = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!name.ends_with(".yaml") && !name.ends_with(".yml")) continue;
    ++files;
    auto r = netctl({"validate", dir + "/" + name});
    EXPECT_EQ(r.exitCode, 2) << name << ": " << r.err;
    EXPECT_NE(r.err.find(name), std::string::npos) << name << " error does not name the file: " << r.err;
  }
  ::closedir(d);
  EXPECT_GE(files, 30);
}

TEST(Cli, UnknownVerbAndBadUsageExitWithTwo) {
  EXPECT_EQ(netctl({"frobnicate"}).exitCode, 2);
  EXPECT_EQ(netctl({"doctor", "--output", "xml"}).exitCode, 2);
  EXPECT_EQ(netctl({"exec", "lab-only"}).exitCode, 2);
  auto missing = netctl({"exec", "nolab", "r1", "--", "true"});
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.err.find("nolab"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace netctl

namespace netctl {
namespace {

TEST(Graph, EveryFormatOfAnExample) {
  std::string file = NETCTL_SOURCE_DIR "/configs/examples/routed-triangle.yaml";
  auto dotOut = testing::netctl({"graph", file, "--format", "dot"});
  ASSERT_EQ(dotOut.exitCode, 0) << dotOut.err;
  EXPECT_TRUE(dotOut.out.starts_with("graph ")) << dotOut.out;
  auto mermaidOut = testing::netctl({"graph", file, "--format", "mermaid"});
  ASSERT_EQ(mermaidOut.exitCode, 0) << mermaidOut.err;
  EXPECT_TRUE(mermaidOut.out.starts_with("graph LR\n"));
  auto svgOut = testing::netctl({"graph", file, "-f", "svg"});
  ASSERT_EQ(svgOut.exitCode, 0) << svgOut.err;
  EXPECT_TRUE(svgOut.out.starts_with("<svg ")) << svgOut.out.substr(0, 80);
  EXPECT_NE(svgOut.out.find("</svg>"), std::string::npos);
  EXPECT_EQ(testing::netctl({"graph", file, "-f", "png"}).exitCode, 2);
  EXPECT_NE(testing::netctl({"graph", "no-such-lab"}).exitCode, 0);
}

}  // namespace
}  // namespace netctl

namespace netctl {
namespace {

TEST(Completion, BashCompletesEveryVerbAndTheManPageListsThem) {
  auto script = testing::netctl({"completion", "bash"});
  ASSERT_EQ(script.exitCode, 0) << script.err;
  std::string file = "/run/netctl-completion.bash";
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(script.out.c_str(), f);
  std::fclose(f);
  // What bash offers after `netctl d<TAB>`.
  auto offered = testing::run({"bash", "-c", "source " + file + "; COMP_WORDS=(netctl d); COMP_CWORD=1; _netctl; echo ${COMPREPLY[@]}"});
  ASSERT_EQ(offered.exitCode, 0) << offered.err;
  EXPECT_EQ(offered.out, "down doctor\n");
  auto man = testing::netctl({"manpage"});
  ASSERT_EQ(man.exitCode, 0);
  EXPECT_TRUE(man.out.starts_with(".TH NETCTL 8")) << man.out.substr(0, 40);
  for (const char* verb : {"up", "down", "inspect", "exec", "validate", "graph", "doctor", "cni", "completion"}) {
    bool listed = script.out.find(std::string(" ") + verb + " ") != std::string::npos ||
                  script.out.find(std::string("\"") + verb + " ") != std::string::npos;
    EXPECT_TRUE(listed) << verb << " not completed";
    EXPECT_NE(man.out.find(std::string(".B ") + verb + "\n"), std::string::npos) << verb << " not in the man page";
  }
  std::remove(file.c_str());
}

}  // namespace
}  // namespace netctl
