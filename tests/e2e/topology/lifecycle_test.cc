// The life of a lab beyond one up and one down: reconciling an edited file in place, zero
// changes on an unchanged second up, several labs at once, `up` killed at many points, and
// invalid input that creates nothing.
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>

#include "lab_support.h"

using namespace labtest;

namespace {

std::string writeLab(const std::string& name, const std::string& text) {
  std::string path = "/tmp/netctl-labtest-" + std::to_string(::getpid()) + "-" + name + ".yaml";
  std::ofstream(path) << text;
  return path;
}

const char* kSmall = R"(name: edit
networks:
  lan: {subnet: 172.31.40.0/24, nat: false}
defaults: {cmd: [sleep, infinity]}
nodes:
  a: {networks: [lan]}
  b: {networks: [lan]}
links:
  - endpoints: ["a:eth1", "b:eth1"]
    ipv4: [10.40.0.1/30, 10.40.0.2/30]
)";

const char* kSmallPlus = R"(  c: {networks: [lan]}
)";

}  // namespace

TEST(Lifecycle, EditAddRemoveAndZeroChanges) {
  std::string base = kSmall;
  std::string file = writeLab("edit", base);
  auto up = netctl("up " + file);
  ASSERT_EQ(up.rc, 0) << up.out;
  ASSERT_TRUE(ping("edit-a", "10.40.0.2"));
  // The lab's bridge floods multicast (networks.*.mcast_snooping defaults to false).
  auto bridges = nlohmann::json::parse(sh("ip -d -j link show type bridge").out);
  ASSERT_EQ(bridges.size(), 1u) << bridges.dump();
  EXPECT_EQ(bridges[0]["linkinfo"]["info_data"]["mcast_snooping"], 0) << bridges.dump();
  auto again = netctl("up " + file);
  ASSERT_EQ(again.rc, 0) << again.out;
  EXPECT_NE(again.out.find("no changes"), std::string::npos) << again.out;
  std::string aPid = sh("ip netns identify $(cat /proc/self/pid 2>/dev/null) >/dev/null; "
                        "stat -L -c %i /run/netns/edit-a").out;

  // Add node c and a link b:eth2 -- c:eth1.
  std::string edited = base;
  edited.insert(edited.find("links:"), kSmallPlus);
  edited += "  - endpoints: [\"b:eth2\", \"c:eth1\"]\n    ipv4: [10.40.1.1/30, 10.40.1.2/30]\n";
  std::ofstream(file) << edited;
  auto dry = netctl("up --dry-run " + file);
  ASSERT_EQ(dry.rc, 0) << dry.out;
  EXPECT_NE(dry.out.find("+ node c"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("+ link b:eth2--c:eth1"), std::string::npos) << dry.out;
  EXPECT_EQ(dry.out.find("+ node a"), std::string::npos) << dry.out;
  EXPECT_EQ(sh("ls /run/netns/edit-c").rc, 2) << "dry run created c";
  auto up2 = netctl("up " + file);
  ASSERT_EQ(up2.rc, 0) << up2.out;
  EXPECT_TRUE(ping("edit-c", "10.40.1.1"));
  EXPECT_TRUE(ping("edit-a", "10.40.0.2"));
  // a was left alone: same netns.
  EXPECT_EQ(sh("stat -L -c %i /run/netns/edit-a").out, aPid);
  auto zero = netctl("up " + file);
  EXPECT_NE(zero.out.find("no changes"), std::string::npos) << zero.out;

  // Remove them again.
  std::ofstream(file) << base;
  auto up3 = netctl("up " + file);
  ASSERT_EQ(up3.rc, 0) << up3.out;
  EXPECT_NE(sh("ls /run/netns/edit-c").rc, 0);
  EXPECT_NE(sh("ip -n edit-b link show eth2").rc, 0);
  EXPECT_TRUE(ping("edit-a", "10.40.0.2"));
  EXPECT_EQ(sh("stat -L -c %i /run/netns/edit-a").out, aPid);

  // down works with the file gone, and twice.
  ::unlink(file.c_str());
  EXPECT_EQ(netctl("down edit").rc, 0);
  EXPECT_EQ(netctl("down edit").rc, 0);
  expectClean("edit");
}

TEST(Lifecycle, ThreeLabsInParallel) {
  std::vector<std::string> files;
  for (int i = 0; i < 3; ++i) {
    files.push_back(writeLab("par" + std::to_string(i), fmt::format(R"(name: par{0}
networks:
  lan: {{subnet: 172.31.5{0}.0/24}}
defaults: {{cmd: [sleep, infinity]}}
nodes:
  x: {{networks: [lan], ports: ["1808{0}:80"]}}
  y: {{networks: [lan]}}
  z: {{}}
links:
  - endpoints: ["y:eth1", "z:eth1"]
    ipv4: [10.5{0}.0.1/30, 10.5{0}.0.2/30]
)", i)));
  }
  std::vector<labtest::Run> runs(3);
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i) ts.emplace_back([&, i] { runs[i] = netctl("up " + files[i]); });
  for (auto& t : ts) t.join();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(runs[i].rc, 0) << runs[i].out;
    std::string p = "par" + std::to_string(i);
    EXPECT_TRUE(ping(p + "-x", fmt::format("172.31.5{}.3", i)));
    EXPECT_TRUE(ping(p + "-z", fmt::format("10.5{}.0.1", i)));
    EXPECT_NE(sh("nft list ruleset | grep -c 1808" + std::to_string(i)).out, "0\n");
  }
  // A fourth lab whose subnet collides with a running one is refused, creating nothing.
  std::string clash = writeLab("clash", "name: clash\nnetworks:\n  lan: {subnet: 172.31.50.0/24}\nnodes:\n  q: {networks: [lan]}\n");
  auto refused = netctl("up " + clash);
  EXPECT_EQ(refused.rc, 2) << refused.out;
  EXPECT_NE(sh("ls /run/netns/clash-q").rc, 0);
  auto down = netctl("down --all");
  ASSERT_EQ(down.rc, 0) << down.out;
  for (auto& f : files) ::unlink(f.c_str());
  ::unlink(clash.c_str());
  expectClean("three labs");
}

TEST(Lifecycle, InvalidInputCreatesNothing) {
  struct Case {
    const char* name;
    const char* text;
    const char* expect;
  } cases[] = {
      {"unknown-node", "name: bad1\nnodes:\n  a: {}\nlinks:\n  - endpoints: [\"a:eth1\", \"r9:eth1\"]\n", "r9"},
      {"bad-port", "name: bad2\nnetworks:\n  lan: {subnet: 172.31.60.0/24}\nnodes:\n  a: {networks: [lan], ports: [\"99999:80\"]}\n", "ports"},
      {"missing-parent", "name: bad3\nnetworks:\n  up: {driver: macvlan, parent: nosuch0, subnet: 192.168.77.0/24}\nnodes:\n  a: {networks: [up]}\n", "nosuch0"},
      {"dummy", "name: bad4\nnodes:\n  a: {}\nlinks:\n  - type: dummy\n    endpoint: {node: a, interface: d0}\n", "dummy"},
  };
  for (const auto& c : cases) {
    std::string f = writeLab(c.name, c.text);
    auto r = netctl("up " + f);
    EXPECT_EQ(r.rc, 2) << c.name << ": " << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.name << ": " << r.out;
    EXPECT_NE(r.out.find(f), std::string::npos) << c.name << " names no file: " << r.out;
    ::unlink(f.c_str());
    expectClean(c.name);
  }
}

// `up` of a 20-node lab killed right after its N-th journaled step, for many N; `down`
// after each leaves nothing, and a corrected (here: the same) `up` completes.
TEST(Lifecycle, KilledAtAnyStep) {
  std::string text = "name: crash\nnetworks:\n  lan: {subnet: 172.31.70.0/24}\n"
                     "defaults: {cmd: [sleep, infinity]}\nnodes:\n";
  for (int i = 0; i < 20; ++i) text += fmt::format("  n{:02}: {{networks: [lan]{}}}\n", i, i == 0 ? ", ports: [\"18100:80\"]" : "");
  text += "links:\n";
  for (int i = 0; i < 19; i += 2)
    text += fmt::format("  - endpoints: [\"n{:02}:eth1\", \"n{:02}:eth1\"]\n", i, i + 1);
  std::string file = writeLab("crash", text);
  // Steps: begin, bridge, nft, 20 nodes, 10 links, done = 34.
  int killed = 0;
  for (int step : {1, 2, 3, 4, 6, 9, 13, 18, 23, 24, 27, 31, 33}) {
    auto r = sh(fmt::format("NETCTL_TEST_DIE_AFTER_STEP={} {} up {}", step, NETCTL_BINARY, file));
    if (r.rc == 128 + 9 || r.rc == 137) ++killed;
    if (step == 13) {
      // A corrected up completes what the killed one left.
      auto fix = netctl("up " + file);
      ASSERT_EQ(fix.rc, 0) << fix.out;
      EXPECT_TRUE(ping("crash-n00", "172.31.70.21"));
    }
    auto d = netctl("down crash");
    ASSERT_EQ(d.rc, 0) << "after step " << step << ": " << d.out;
    expectClean(fmt::format("killed after step {}", step));
  }
  EXPECT_GE(killed, 10);
  ::unlink(file.c_str());
}
