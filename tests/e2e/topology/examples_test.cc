// Every example of configs/examples comes up, carries traffic as designed, is reported by
// `inspect` as the kernel has it, and `down` leaves nothing behind.
#include "lab_support.h"

using namespace labtest;

TEST(Examples, Quickstart) {
  auto up = netctl("up " + example("quickstart.yaml"));
  ASSERT_EQ(up.rc, 0) << up.out;
  EXPECT_NE(up.out.find("web"), std::string::npos) << up.out;
  EXPECT_TRUE(ping("quickstart-client", "172.31.10.10"));
  EXPECT_TRUE(ping("quickstart-client", "172.31.10.1"));
  // An IPv4-only network gives the node's interface no IPv6 (as Docker does): no link-local
  // address, so nothing floods the bridge with DAD and MLD.
  EXPECT_EQ(sh("ip -n quickstart-client -6 -o addr show scope link").out, "");
  EXPECT_NE(sh("ip -n quickstart-client -d link show eth0").out.find("addrgenmode none"), std::string::npos);
  // web serves HTTP: reach it from the client and through the published port from the host.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = tcp("quickstart-client", "172.31.10.10", 80);
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served);
  auto fetch = [](const std::string& where, const std::string& url) {
    return sh(where + "timeout 5 python3 -c \"import urllib.request;print(urllib.request.urlopen('" + url +
              "').status)\"").out;
  };
  EXPECT_EQ(fetch("", "http://172.31.10.10:80/"), "200\n");
  // The published port, from the host's loopback (route_localnet) and its bridge address.
  EXPECT_EQ(fetch("", "http://127.0.0.1:8080/"), "200\n");
  EXPECT_EQ(fetch("", "http://172.31.10.1:8080/"), "200\n");
  // Hairpin: web reaches its own published port through the host's address.
  EXPECT_EQ(fetch("ip netns exec quickstart-web ", "http://172.31.10.1:8080/"), "200\n");
  auto viaPort = sh("nft list ruleset | grep -c 8080");
  EXPECT_NE(viaPort.out, "0\n") << "port 8080 not published";
  // /etc/hosts inside the client lists web.
  auto j = inspectJson("quickstart");
  int pid = 0;
  for (const auto& n : j["nodes"])
    if (n["name"] == "client") pid = n["pid"];
  ASSERT_GT(pid, 0);
  auto hosts = sh("nsenter -t " + std::to_string(pid) + " -m cat /etc/hosts");
  EXPECT_NE(hosts.out.find("172.31.10.10"), std::string::npos) << hosts.out;
  EXPECT_NE(hosts.out.find("web"), std::string::npos) << hosts.out;
  expectInspectMatchesKernel("quickstart");
  // The leak check sees a running lab (so its silence after down means something).
  auto running = leftovers();
  for (const char* what : {"cgroups:", "netns:", "link ", "nft:", "state:"})
    EXPECT_NE(running.find(what), std::string::npos) << what << " not seen while running:\n" << running;
  auto down = netctl("down quickstart");
  ASSERT_EQ(down.rc, 0) << down.out;
  expectClean("quickstart");
}

TEST(Examples, RoutedTriangle) {
  auto up = netctl("up " + example("routed-triangle.yaml"));
  ASSERT_EQ(up.rc, 0) << up.out;
  EXPECT_TRUE(ping("triangle-h1", "10.1.3.10"));
  EXPECT_TRUE(ping("triangle-h2", "10.1.1.10"));
  EXPECT_TRUE(ping("triangle-h3", "10.1.2.10"));
  EXPECT_TRUE(ping("triangle-h1", "10.0.23.2"));
  // TCP across the lab: a listener on h3, a connection from h1.
  auto srv = sh("ip netns exec triangle-h3 timeout 10 python3 -c \"import socket;s=socket.socket();s.bind(('0.0.0.0',7000));s.listen();c,_=s.accept();c.send(b'ok')\" > /dev/null & sleep 0.5; "
                "ip netns exec triangle-h1 timeout 5 python3 -c \"import socket;s=socket.create_connection(('10.1.3.10',7000));print(s.recv(2).decode())\"");
  EXPECT_NE(srv.out.find("ok"), std::string::npos) << srv.out;
  expectInspectMatchesKernel("triangle");
  ASSERT_EQ(netctl("down " + example("routed-triangle.yaml")).rc, 0);
  expectClean("triangle");
}

TEST(Examples, NatRouter) {
  auto up = netctl("up " + example("nat-router.yaml"));
  ASSERT_EQ(up.rc, 0) << up.out;
  EXPECT_TRUE(ping("natrouter-pc1", "192.168.100.1"));
  EXPECT_TRUE(ping("natrouter-pc1", "172.31.20.1"));
  EXPECT_TRUE(ping("natrouter-pc2", "172.31.20.1"));
  // Masqueraded: the host sees pc1's connection arrive from the router's WAN address.
  auto probe = sh("timeout 5 python3 -c \"import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('172.31.20.1',7001));s.listen();c,a=s.accept();print(a[0])\" & sleep 0.5; "
                  "ip netns exec natrouter-pc1 timeout 3 bash -c 'exec 3<>/dev/tcp/172.31.20.1/7001'; wait");
  EXPECT_NE(probe.out.find("172.31.20.2"), std::string::npos) << probe.out;
  auto nft = sh("ip netns exec natrouter-router nft list ruleset");
  EXPECT_NE(nft.out.find("masquerade"), std::string::npos) << nft.out;
  expectInspectMatchesKernel("natrouter");
  ASSERT_EQ(netctl("down natrouter").rc, 0);
  expectClean("natrouter");
}

TEST(Examples, LeafSpine) {
  auto up = netctl("up " + example("leaf-spine.yaml"));
  ASSERT_EQ(up.rc, 0) << up.out;
  EXPECT_TRUE(ping("fabric-server1-1", "10.2.4.6"));
  EXPECT_TRUE(ping("fabric-server4-2", "10.2.1.2"));
  expectInspectMatchesKernel("fabric");
  ASSERT_EQ(netctl("down fabric").rc, 0);
  expectClean("fabric");
}

TEST(Examples, Containerlab) {
  auto up = netctl("up " + example("containerlab.clab.yml"));
  ASSERT_EQ(up.rc, 0) << up.out;
  EXPECT_TRUE(ping("clab-demo-srv", "10.30.1.2"));
  EXPECT_TRUE(ping("clab-demo-c2", "10.30.2.1"));
  EXPECT_TRUE(ping("clab-demo-c1", "172.31.30.10"));
  auto mac = sh("ip -n clab-demo-c2 -j link show eth1");
  EXPECT_NE(mac.out.find("02:00:00:30:02:02"), std::string::npos) << mac.out;
  expectInspectMatchesKernel("clab-demo");
  ASSERT_EQ(netctl("down clab-demo").rc, 0);
  expectClean("clab-demo");
}

TEST(Examples, Star100) {
  auto t0 = std::chrono::steady_clock::now();
  auto up = netctl("up " + example("star-100.yaml"));
  ASSERT_EQ(up.rc, 0) << up.out;
  auto t1 = std::chrono::steady_clock::now();
  auto j = inspectJson("star");
  ASSERT_EQ(j["nodes"].size(), 100u);
  std::string last = j["nodes"][99]["addresses"][0];
  EXPECT_TRUE(ping("star-n001", last.substr(0, last.find('/'))));
  { auto d = netctl("down star"); ASSERT_EQ(d.rc, 0) << d.out; std::printf("%s", d.out.c_str()); }
  auto t2 = std::chrono::steady_clock::now();
  using ms = std::chrono::milliseconds;
  std::printf("star-100: up %lld ms, down %lld ms\n",
              (long long)std::chrono::duration_cast<ms>(t1 - t0).count(),
              (long long)std::chrono::duration_cast<ms>(t2 - t1).count());
  expectClean("star");
}
