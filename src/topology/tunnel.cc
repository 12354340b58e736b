#include "tunnel.h"

#include "lab_common.h"
#include "netctl/net/fdb.h"
#include "netctl/topology/names.h"

namespace netctl::lab::tunnel {

using namespace topology;

std::string spanDevice(const Lab& lab, const Network& n) {
  return names::scratch(lab.name, "", "span:" + n.name);
}

Result<void> addSpan(Journal& journal, nl::Socket& host, const Lab& lab, const Network& n,
                     const std::string& bridge) {
  if (!n.span) return {};
  const Span& sp = *n.span;
  std::string dev = spanDevice(lab, n);
  const std::string what = fmt::format("VXLAN port {} (VNI {})", dev, sp.vni);
  NETCTL_TRY(journal.record({"hostlink", dev, {{"network", n.name}, {"vni", sp.vni}}}));
  link::VxlanSpec x;
  x.link.name = dev;
  x.link.mtu = static_cast<uint32_t>(sp.mtu);
  x.link.master = link::Ref(bridge);
  x.link.up = true;
  x.link.owner = lab.name;
  x.link.ipv6LinkLocal = false;  // a bridge port
  x.vni = sp.vni;
  x.dstPort = sp.port;
  x.learning = sp.learning;
  if (!sp.parent.empty()) x.parent = link::Ref(sp.parent);
  int index = NETCTL_TRYC(link::create(host, x), "{}", what);
  for (const auto& p : sp.peers) {
    fdb::Remote r{.mac = {}, .dst = toIp(p.address), .port = p.port == sp.port ? uint16_t(0) : p.port};
    NETCTL_TRYC(fdb::append(host, link::Ref(index), r), "{}: peer host {}", what, p.host);
  }
  Mac gw = names::mac(lab.name, "", "gateway:" + n.name);
  NETCTL_TRYC(link::setMac(host, link::Ref(bridge), toMac(gw)), "{}: the gateway MAC", what);
  return {};
}

Result<void> removeSpan(nl::Socket& host, const Lab& lab, const Network& n) {
  if (!n.span) return {};
  auto r = link::remove(host, link::Ref(spanDevice(lab, n)));
  if (!r && r.error().kind() != Error::Kind::kNotFound) return r;
  return {};
}

Result<void> addPeers(nl::Socket& s, const link::Ref& dev, const Link& l) {
  for (const auto& p : l.peers) {
    fdb::Remote r{.mac = {}, .dst = toIp(p.address), .port = p.port == l.dstPort ? uint16_t(0) : p.port};
    NETCTL_TRYC(fdb::append(s, dev, r), "peer host {}", p.host);
  }
  return {};
}

}  // namespace netctl::lab::tunnel
