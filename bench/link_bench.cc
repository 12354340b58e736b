// Link engine benchmark (issue 2): N network namespaces and N veth pairs (peer in its
// namespace, host end on a bridge, both ends up), then teardown until the host lists none of
// the links. Three ways, in the same run, inside the sandbox:
//   netctl   the link engine: peer created in place, requests packed into few sendmsg calls
//   ip       `ip -batch` with the peer created in place (ip cannot bring the peer up in the
//            same request, and a batch cannot switch namespaces, so its figure leaves the
//            peers down: it does less work than netctl)
//   naive    create both ends in the host, then move the peer into its namespace
// Usage: link_bench [--sizes 100,1000] [--naive-max N]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "netctl/net/link.h"
#include "netctl/net/netlink.h"
#include "netctl/net/netns.h"
#include "support/sandbox.h"

using namespace netctl;
using Clock = std::chrono::steady_clock;

namespace {

struct Figures {
  double up = 0;    // seconds
  double down = 0;  // seconds
};

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

[[noreturn]] void die(const std::string& what, const Error& e) {
  std::fprintf(stderr, "link_bench: %s: %s\n", what.c_str(), e.what().c_str());
  std::exit(1);
}

template <typename T>
T must(Result<T> r, const std::string& what) {
  if (!r) die(what, r.error());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

std::string nsName(int i) { return fmt::format("bn{}", i); }
// All namespaces of a run live in one directory, released with one unmount.
std::string nsDir() { return sandbox::info().stateRoot + "/bench-netns"; }
std::string hostEnd(int i) { return fmt::format("vb{}", i); }

// Waits until the host lists no link named vb*; the kernel destroys namespaces asynchronously.
void waitHostEndsGone(nl::Socket& host) {
  for (;;) {
    auto links = must(link::list(host), "listing host links");
    bool any = false;
    for (const auto& l : links) any |= l.name.starts_with("vb");
    if (!any) return;
    ::usleep(2000);  // each dump takes the rtnl lock that the kernel's cleanup needs too
  }
}

void createBridge(nl::Socket& host) {
  link::BridgeSpec br;
  br.link.name = "bbr";
  br.link.up = true;
  br.multicastSnooping = false;  // as a lab's network makes it; every method gets this bridge
  must(link::create(host, br), "creating bridge");
}

void removeNamespaces() { must(netns::removeAllIn(nsDir()), "removing namespaces"); }

// peerLinkLocal false: the peers come up without an IPv6 link-local address, as a lab's
// IPv4-only network makes them (Docker's choice too). With one, every peer's DAD and MLD
// packets flood the bridge to all ports, O(N^2) in all; ip -batch's peers stay down and send
// nothing, so the default compares like with like, and the other is printed too.
Figures runNetctl(int n, bool peerLinkLocal) {
  auto host = must(nl::Socket::open(), "socket");
  createBridge(host);
  auto t0 = Clock::now();
  std::vector<netns::Handle> spaces;
  spaces.reserve(n);
  for (int i = 0; i < n; ++i) spaces.push_back(must(netns::createIn(nsDir(), nsName(i)), "netns"));
  double namespacesDone = since(t0);
  int bridge = must(link::index(host, "bbr"), "bridge index");
  std::vector<link::Spec> specs;
  specs.reserve(n);
  for (int i = 0; i < n; ++i) {
    link::VethSpec v;
    v.link.name = hostEnd(i);
    v.link.master = bridge;
    v.link.up = true;
    v.link.owner = "bench";
    v.link.ipv6LinkLocal = false;  // a bridge port, as netctl's labs and CNI make them
    v.peer.name = "eth0";
    v.peer.netns = &spaces[i];
    v.peer.up = true;
    v.peer.ipv6LinkLocal = peerLinkLocal;
    specs.emplace_back(std::move(v));
  }
  for (auto& r : link::createMany(host, specs)) must(std::move(r), "creating veth");
  Figures f;
  f.up = since(t0);
  std::printf("%-9s N=%-5d up split: namespaces %.3f s, links %.3f s\n", peerLinkLocal ? "netctl+ll" : "netctl", n,
              namespacesDone, f.up - namespacesDone);

  // What `netctl down` does: the owner's links in one group deletion (its bridges down first;
  // this one is not the owner's, so down by hand), then the namespaces with one unmount.
  spaces.clear();
  t0 = Clock::now();
  must(link::setUp(host, "bbr", false), "taking the bridge down");
  must(link::removeOwned(host, "bench"), "removing the links");
  removeNamespaces();
  waitHostEndsGone(host);
  f.down = since(t0);
  must(link::remove(host, "bbr"), "removing bridge");
  return f;
}

int runIp(const std::string& file) {
  return std::system(fmt::format("ip -batch {} >/dev/null", file).c_str());
}

Figures runIpBatch(int n) {
  auto host = must(nl::Socket::open(), "socket");
  createBridge(host);
  std::string upFile = "/run/bench-up.txt", downFile = "/run/bench-down.txt";
  {
    std::ofstream up(upFile), down(downFile);
    for (int i = 0; i < n; ++i) {
      up << fmt::format("netns add {}\nlink add {} master bbr up type veth peer name eth0 netns {}\n", nsName(i),
                        hostEnd(i), nsName(i));
      down << fmt::format("netns delete {}\n", nsName(i));
    }
  }
  Figures f;
  auto t0 = Clock::now();
  if (runIp(upFile) != 0) die("ip -batch up", Error(Error::Kind::kSystem, 0, "failed"));
  f.up = since(t0);
  t0 = Clock::now();
  if (runIp(downFile) != 0) die("ip -batch down", Error(Error::Kind::kSystem, 0, "failed"));
  waitHostEndsGone(host);
  f.down = since(t0);
  must(link::remove(host, "bbr"), "removing bridge");
  ::unlink(upFile.c_str());
  ::unlink(downFile.c_str());
  return f;
}

Figures runNaive(int n) {
  auto host = must(nl::Socket::open(), "socket");
  createBridge(host);
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto ns = must(netns::createIn(nsDir(), nsName(i)), "netns");
    link::VethSpec v;
    v.link.name = hostEnd(i);
    v.peer.name = fmt::format("p{}", i);
    must(link::create(host, v), "creating veth in the host");
    must(link::moveTo(host, v.peer.name, ns), "moving the peer");
    auto inside = must(nl::Socket::openIn(ns), "socket in netns");
    must(link::rename(inside, v.peer.name, "eth0"), "renaming the peer");
    must(link::setUp(inside, "eth0"), "peer up");
    must(link::setMaster(host, v.link.name, "bbr"), "master");
    must(link::setUp(host, v.link.name), "host end up");
  }
  Figures f;
  f.up = since(t0);
  t0 = Clock::now();
  removeNamespaces();
  waitHostEndsGone(host);
  f.down = since(t0);
  must(link::remove(host, "bbr"), "removing bridge");
  return f;
}

void print(const char* method, int n, const Figures& f, const Figures& ours) {
  std::printf("%-9s N=%-5d up %8.3f s (%7.1f us/pair)  down %8.3f s (%7.1f us/pair)  netctl speedup: up %6.2fx  down %6.2fx\n",
              method, n, f.up, f.up / n * 1e6, f.down, f.down / n * 1e6, f.up / ours.up, f.down / ours.down);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {100, 1000};
  int naiveMax = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--sizes") {
      sizes.clear();
      for (std::string s = argv[i + 1]; !s.empty();) {
        auto comma = s.find(',');
        sizes.push_back(std::stoi(s.substr(0, comma)));
        s = comma == std::string::npos ? "" : s.substr(comma + 1);
      }
    } else if (arg == "--naive-max") {
      naiveMax = std::stoi(argv[i + 1]);
    }
  }
  if (auto entered = sandbox::enter(); !entered) die("entering the sandbox", entered.error());

  std::printf("link_bench: namespaces + veth pairs (peer in its netns, host end on a bridge, up), then teardown\n"
              "netctl: no IPv6 link-local on either end (a lab's IPv4 network); netctl+ll: the peers keep theirs\n");
  for (int n : sizes) {
    Figures ours = runNetctl(n, false);
    print("netctl", n, ours, ours);
    print("netctl+ll", n, runNetctl(n, true), ours);
    print("ip", n, runIpBatch(n), ours);
    if (n <= naiveMax) print("naive", n, runNaive(n), ours);
    std::printf("targets (N=1000): up <= 1.5 s, down <= 0.5 s, up within 1.3x of ip -batch, >= 20x faster than naive\n");
  }
  return 0;
}
