// host-local compatible IPAM on a temporary dataDir (no network needed): allocation order,
// round-robin through last_reserved_ip, rangeStart/rangeEnd, gateways skipped, several range
// sets (IPv4 and IPv6), exhaustion, release by id, GC, flock across 100 threads and 100
// processes, and interplay with the reference host-local plugin on the same dataDir.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "netctl/cni/config.h"
#include "netctl/cni/ipam.h"

using namespace netctl::cni;

namespace {

class CniIpam : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netctl-cni-ipam-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  IpamConf ipam(const std::string& ipamJson) {
    auto c = parseNetConf(fmt::format(R"({{"cniVersion":"1.0.0","name":"net","type":"netctl","ipam":{}}})", ipamJson));
    EXPECT_TRUE(c) << c.error().msg;
    return *c->ipam;
  }
  ipam::Request req(const std::string& id, const std::string& ifname = "eth0") {
    return ipam::Request{dir, "net", id, ifname, {}};
  }
  // The addresses handed out, as text, or the error code as "E<code>".
  std::vector<std::string> add(const IpamConf& c, const std::string& id, const std::string& ifname = "eth0") {
    auto r = ipam::allocate(c, req(id, ifname));
    if (!r) return {fmt::format("E{}", r.error().code)};
    std::vector<std::string> out;
    for (const auto& ip : r->ips) out.push_back(ip.address.str());
    return out;
  }
  std::string file(const std::string& name) {
    std::ifstream f(dir + "/net/" + name, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  bool has(const std::string& name) { return std::filesystem::exists(dir + "/net/" + name); }
  size_t addressFiles() {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir + "/net"))
      if (IpAddr::parse(e.path().filename().string())) ++n;
    return n;
  }

  std::string dir;
};

using V = std::vector<std::string>;

}  // namespace

TEST_F(CniIpam, OrderAndRoundRobin) {
  auto c = ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.1.0.0/29"}]]})");  // .2-.6 usable
  EXPECT_EQ(add(c, "a"), V{"10.1.0.2/29"});
  EXPECT_EQ(add(c, "b"), V{"10.1.0.3/29"});
  EXPECT_EQ(file("10.1.0.2"), "a\r\neth0");
  EXPECT_EQ(file("last_reserved_ip.0"), "10.1.0.3");
  EXPECT_TRUE(has("lock"));
  ASSERT_TRUE(ipam::release(c, req("a")));
  EXPECT_FALSE(has("10.1.0.2"));
  // Round-robin: continue after the last reserved address, not at the freed .2.
  EXPECT_EQ(add(c, "c"), V{"10.1.0.4/29"});
  EXPECT_EQ(add(c, "d"), V{"10.1.0.5/29"});
  EXPECT_EQ(add(c, "e"), V{"10.1.0.6/29"});
  EXPECT_EQ(add(c, "f"), V{"10.1.0.2/29"});  // wrapped, gateway .1 skipped
  EXPECT_EQ(add(c, "g"), V{"E101"});        // exhausted
  EXPECT_EQ(file("last_reserved_ip.0"), "10.1.0.2");
  // A last_reserved_ip outside the ranges (config changed) restarts at rangeStart.
  { std::ofstream(dir + "/net/last_reserved_ip.0") << "192.0.2.1"; }
  ASSERT_TRUE(ipam::release(c, req("c")));
  EXPECT_EQ(add(c, "h"), V{"10.1.0.4/29"});
}

TEST_F(CniIpam, RangeStartEndAndGateway) {
  auto c = ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.2.0.0/24","rangeStart":"10.2.0.10",
      "rangeEnd":"10.2.0.12","gateway":"10.2.0.11"}]]})");
  auto r = ipam::allocate(c, req("a"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ips[0].address.str(), "10.2.0.10/24");
  EXPECT_EQ(r->ips[0].gateway->str(), "10.2.0.11");
  EXPECT_FALSE(r->ips[0].interface);
  EXPECT_EQ(add(c, "b"), V{"10.2.0.12/24"});  // .11 is the gateway
  EXPECT_EQ(add(c, "c"), V{"E101"});
  // A requested gateway is refused.
  auto want = req("d");
  want.requested = {*IpAddr::parse("10.2.0.11")};
  auto g = ipam::allocate(c, want);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, code::kAddressUnavailable);
}

TEST_F(CniIpam, SeveralRangeSetsV4AndV6) {
  auto c = ipam(R"({"type":"host-local","ranges":[
      [{"subnet":"10.3.0.0/30"},{"subnet":"10.3.1.0/30"}],
      [{"subnet":"fd03::/126"}]],"routes":[{"dst":"::/0"}]})");
  auto r = ipam::allocate(c, req("a"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->ips.size(), 2u);
  EXPECT_EQ(r->ips[0].address.str(), "10.3.0.2/30");
  EXPECT_EQ(r->ips[1].address.str(), "fd03::2/126");
  EXPECT_EQ(r->ips[1].gateway->str(), "fd03::1");
  ASSERT_EQ(r->routes.size(), 1u);
  EXPECT_EQ(add(c, "b"), (V{"10.3.1.2/30", "fd03::3/126"}));  // next range of the set
  EXPECT_EQ(file("last_reserved_ip.1"), "fd03::3");
  EXPECT_EQ(file("fd03::3"), "b\r\neth0");
  // The IPv4 set is full now; nothing of c stays reserved.
  EXPECT_EQ(add(c, "c"), V{"E101"});
  EXPECT_EQ(addressFiles(), 4u);
  // IPv6 exhausted while IPv4 has room: the IPv4 address taken first is given back.
  ASSERT_TRUE(ipam::release(c, req("a")));
  auto c2 = ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.3.0.0/30"}],[{"subnet":"fd03::/126"}]]})");
  // fd03::2 is free again and fd03::3 is b's: one more works, then v6 is full.
  EXPECT_EQ(add(c2, "d"), (V{"10.3.0.2/30", "fd03::2/126"}));
  ASSERT_TRUE(ipam::release(c2, req("d")));
  { std::ofstream(dir + "/net/fd03::2") << "x\r\neth0"; }
  EXPECT_EQ(add(c2, "e"), V{"E101"});
  EXPECT_FALSE(has("10.3.0.2"));
}

TEST_F(CniIpam, RequestedAddresses) {
  auto c = ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.4.0.0/24"}],[{"subnet":"fd04::/64"}]]})");
  auto r = req("a");
  r.requested = {*IpAddr::parse("fd04::99"), *IpAddr::parse("10.4.0.77")};
  auto got = ipam::allocate(c, r);
  ASSERT_TRUE(got) << got.error().msg;
  EXPECT_EQ(got->ips[0].address.str(), "10.4.0.77/24");
  EXPECT_EQ(got->ips[1].address.str(), "fd04::99/64");
  auto taken = req("b");
  taken.requested = {*IpAddr::parse("10.4.0.77")};
  auto t = ipam::allocate(c, taken);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, code::kAddressUnavailable);
  auto outside = req("c");
  outside.requested = {*IpAddr::parse("192.0.2.5")};
  auto o = ipam::allocate(c, outside);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, code::kAddressUnavailable);
  EXPECT_EQ(addressFiles(), 2u);  // failed requests left nothing behind
}

TEST_F(CniIpam, ReleaseByIdAndIfname) {
  auto c = ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.5.0.0/24"}]]})");
  EXPECT_EQ(add(c, "a", "eth0"), V{"10.5.0.2/24"});
  EXPECT_EQ(add(c, "a", "eth1"), V{"10.5.0.3/24"});
  EXPECT_EQ(add(c, "b", "eth0"), V{"10.5.0.4/24"});
  ASSERT_TRUE(ipam::release(c, req("a", "eth1")));
  EXPECT_TRUE(has("10.5.0.2"));
  EXPECT_FALSE(has("10.5.0.3"));
  ASSERT_TRUE(ipam::release(c, req("a", "eth1")));  // again: fine
  ASSERT_TRUE(ipam::check(c, req("a", "eth0")));
  auto gone = ipam::check(c, req("a", "eth1"));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, code::kCheckFailed);
  // host-local's old format (the id alone) is released by id.
  { std::ofstream(dir + "/net/10.5.0.50") << "old\n"; }
  ASSERT_TRUE(ipam::release(c, req("old", "eth0")));
  EXPECT_FALSE(has("10.5.0.50"));
  auto listed = ipam::list(dir, "net");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].containerId, "b");
  EXPECT_EQ((*listed)[1].ifname, "eth0");
}

TEST_F(CniIpam, GcKeepsOnlyValidAttachments) {
  auto c = ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.6.0.0/24"}],[{"subnet":"fd06::/64"}]]})");
  add(c, "a");
  add(c, "b");
  add(c, "a", "eth1");
  { std::ofstream(dir + "/net/10.6.0.100") << "a"; }    // old format, id alive
  { std::ofstream(dir + "/net/10.6.0.101") << "zz"; }   // old format, id dead
  auto rep = ipam::gc(c, dir, "net", {{"a", "eth0"}});
  EXPECT_TRUE(rep.errors.empty());
  EXPECT_EQ(rep.released, 5);  // b (2), a/eth1 (2), zz
  EXPECT_TRUE(has("10.6.0.2"));
  EXPECT_TRUE(has("fd06::2"));
  EXPECT_TRUE(has("10.6.0.100"));
  EXPECT_FALSE(has("10.6.0.3"));
  EXPECT_FALSE(has("10.6.0.101"));
  EXPECT_TRUE(has("lock"));
  EXPECT_TRUE(has("last_reserved_ip.0"));
  EXPECT_EQ(ipam::gc(c, dir, "never-used", {}).released, 0);
}

TEST_F(CniIpam, HundredThreadsGetDistinctAddresses) {
  auto c = ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.7.0.0/24"}]]})");
  std::vector<std::string> got(100);
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i)
    threads.emplace_back([&, i] {
      auto r = ipam::allocate(c, req(fmt::format("t{}", i)));
      got[i] = r ? r->ips[0].address.str() : fmt::format("E{}", r.error().code);
    });
  for (auto& t : threads) t.join();
  std::set<std::string> distinct(got.begin(), got.end());
  EXPECT_EQ(distinct.size(), 100u);
  for (const auto& g : got) EXPECT_EQ(g.rfind("10.7.0.", 0), 0u) << g;
  EXPECT_EQ(addressFiles(), 100u);
  threads.clear();
  for (int i = 0; i < 100; ++i)
    threads.emplace_back([&, i] { (void)ipam::release(c, req(fmt::format("t{}", i))); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(addressFiles(), 0u);
}

TEST_F(CniIpam, HundredProcessesGetDistinctAddresses) {
  auto c = ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.8.0.0/24"}],[{"subnet":"fd08::/120"}]]})");
  // Each child allocates once, as 100 concurrent plugin invocations would; all start together.
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  std::vector<pid_t> kids;
  for (int i = 0; i < 100; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(gate[1]);
      char b;
      (void)!read(gate[0], &b, 1);  // EOF when the parent closes its end
      auto r = ipam::allocate(c, req(fmt::format("p{}", i)));
      _exit(r ? 0 : 10 + (r.error().code % 100));
    }
    kids.push_back(pid);
  }
  close(gate[0]);
  close(gate[1]);
  for (pid_t k : kids) {
    int st = 0;
    ASSERT_EQ(waitpid(k, &st, 0), k);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  }
  auto listed = ipam::list(dir, "net");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 200u);
  std::set<std::string> owners4, owners6;
  for (const auto& r : *listed) (r.address.isV4() ? owners4 : owners6).insert(r.containerId);
  EXPECT_EQ(owners4.size(), 100u);
  EXPECT_EQ(owners6.size(), 100u);
  // 100 releases in parallel processes leave the pool empty.
  kids.clear();
  for (int i = 0; i < 100; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(ipam::release(c, req(fmt::format("p{}", i))) ? 0 : 1);
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int st = 0;
    waitpid(k, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  EXPECT_EQ(addressFiles(), 0u);
}

// ---- the reference host-local plugin on the same dataDir ------------------------------------

namespace {

constexpr const char* kHostLocal = "/usr/lib/cni/host-local";

struct Ran {
  int rc;
  std::string out;
};

// Runs the reference plugin as a runtime would: env vars, stdin, stdout. It only does IPAM,
// so CNI_NETNS can be any path and no network is touched.
Ran hostLocal(const std::string& cmd, const std::string& id, const std::string& conf, const std::string& tmp) {
  std::string in = tmp + "/stdin-" + id + "-" + cmd;
  { std::ofstream(in) << conf; }
  std::string line = fmt::format(
      "CNI_COMMAND={} CNI_CONTAINERID={} CNI_NETNS=/nonexistent CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni {} < {}",
      cmd, id, kHostLocal, in);
  FILE* p = popen(line.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  std::filesystem::remove(in);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace

TEST_F(CniIpam, ReferenceHostLocalSharesTheDataDir) {
  if (access(kHostLocal, X_OK) != 0) GTEST_SKIP() << "containernetworking-plugins is not installed";
  std::string conf = fmt::format(R"({{"cniVersion":"0.4.0","name":"net","type":"bridge",
    "ipam":{{"type":"host-local","dataDir":"{}","ranges":[[{{"subnet":"10.9.0.0/24"}}],[{{"subnet":"fd09::/120"}}]]}}}})", dir);
  auto c = parseNetConf(conf);
  ASSERT_TRUE(c);
  const IpamConf& ip = *c->ipam;
  EXPECT_EQ(ipam::dataDirFor(ip, "/unused"), dir);
  EXPECT_EQ(add(ip, "ours"), (V{"10.9.0.2/24", "fd09::2/120"}));
  // host-local reads our files and our last_reserved_ip: it gets .3.
  auto theirs = hostLocal("ADD", "theirs", conf, dir);
  ASSERT_EQ(theirs.rc, 0) << theirs.out;
  auto j = nlohmann::json::parse(theirs.out);
  EXPECT_EQ(j["ips"][0]["address"], "10.9.0.3/24");
  EXPECT_EQ(j["ips"][1]["address"], "fd09::3/120");
  // And we read theirs.
  EXPECT_EQ(add(ip, "ours2"), (V{"10.9.0.4/24", "fd09::4/120"}));
  auto listed = ipam::list(dir, "net");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 6u);
  EXPECT_EQ((*listed)[1].containerId, "theirs");
  EXPECT_EQ((*listed)[1].ifname, "eth0");
  // host-local's DEL releases an address netctl allocated; netctl releases host-local's.
  auto del = hostLocal("DEL", "ours", conf, dir);
  ASSERT_EQ(del.rc, 0) << del.out;
  EXPECT_FALSE(has("10.9.0.2"));
  EXPECT_FALSE(has("fd09::2"));
  ASSERT_TRUE(ipam::release(ip, req("theirs")));
  EXPECT_FALSE(has("10.9.0.3"));
  // host-local CHECK finds netctl's reservation.
  auto chk = hostLocal("CHECK", "ours2", conf, dir);
  EXPECT_EQ(chk.rc, 0) << chk.out;
  // last_reserved_ip is rewritten in place: a shorter address must not leave a tail behind
  // ("10.9.0.5" over "10.9.0.200" must not read as "10.9.0.50"), or host-local loses its place.
  auto far = req("far");
  far.requested = {*IpAddr::parse("10.9.0.200"), *IpAddr::parse("fd09::c8")};
  ASSERT_TRUE(ipam::allocate(ip, far));
  auto near = req("near");
  near.requested = {*IpAddr::parse("10.9.0.5"), *IpAddr::parse("fd09::5")};
  ASSERT_TRUE(ipam::allocate(ip, near));
  EXPECT_EQ(file("last_reserved_ip.0"), "10.9.0.5");
  auto next = hostLocal("ADD", "next", conf, dir);
  ASSERT_EQ(next.rc, 0) << next.out;
  EXPECT_EQ(nlohmann::json::parse(next.out)["ips"][0]["address"], "10.9.0.6/24");
}

TEST_F(CniIpam, ReferenceHostLocalAndNetctlConcurrently) {
  if (access(kHostLocal, X_OK) != 0) GTEST_SKIP() << "containernetworking-plugins is not installed";
  std::string conf = fmt::format(R"({{"cniVersion":"1.0.0","name":"net","type":"bridge",
    "ipam":{{"type":"host-local","dataDir":"{}","ranges":[[{{"subnet":"10.10.0.0/24"}}]]}}}})", dir);
  const IpamConf ip = *parseNetConf(conf)->ipam;
  // 20 host-local processes and 20 netctl threads at once: the flock on `lock` is shared.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      if (hostLocal("ADD", fmt::format("h{}", i), conf, dir).rc != 0) ++failures;
    });
    threads.emplace_back([&, i] {
      if (!ipam::allocate(ip, req(fmt::format("n{}", i)))) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto listed = ipam::list(dir, "net");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 40u);
  std::set<std::string> owners;
  for (const auto& r : *listed) owners.insert(r.containerId);
  EXPECT_EQ(owners.size(), 40u);
}

TEST_F(CniIpam, ResolvConfBecomesDns) {
  std::string rc = dir + "/resolv.conf";
  { std::ofstream(rc) << "# comment\nnameserver 10.0.0.53\nnameserver fd00::53\ndomain lab.example\n"
                          "search a.example b.example\noptions ndots:2 edns0\n"; }
  auto c = ipam(fmt::format(R"({{"type":"host-local","resolvConf":"{}","ranges":[[{{"subnet":"10.11.0.0/24"}}]]}})", rc));
  auto r = ipam::allocate(c, req("a"));
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->dns.nameservers, (V{"10.0.0.53", "fd00::53"}));
  EXPECT_EQ(r->dns.domain, "lab.example");
  EXPECT_EQ(r->dns.search, (V{"a.example", "b.example"}));
  EXPECT_EQ(r->dns.options, (V{"ndots:2", "edns0"}));
  auto missing = ipam(R"({"type":"host-local","resolvConf":"/nonexistent/resolv.conf","ranges":[[{"subnet":"10.11.0.0/24"}]]})");
  auto m = ipam::allocate(missing, req("b"));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, code::kIoFailure);
  EXPECT_FALSE(has("10.11.0.3"));  // nothing reserved on failure
}
