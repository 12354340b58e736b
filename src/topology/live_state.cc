// live.json, finding a running lab's interfaces, and the small pure pieces of live.h.
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "live_common.h"
#include "netctl/base/fs.h"
#include "netctl/net/addr.h"
#include "netctl/net/route.h"
#include "netctl/topology/json.h"
#include "netctl/topology/names.h"
#include "netctl/topology/state.h"

namespace netctl::live {

using nlohmann::json;
using namespace topology;

Result<IfaceRef> parseIfaceRef(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() ||
      text.find(':', colon + 1) != std::string_view::npos)
    return invalidInput(fmt::format("\"{}\" is not NODE:IFACE (for example r1:eth1)", text));
  IfaceRef r{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  if (r.iface.size() > defaults::kMaxIfName)
    return invalidInput(fmt::format("\"{}\": interface names have at most {} characters", text,
                                    defaults::kMaxIfName));
  return r;
}

qdisc::Impairment fromModel(const Impair& im) {
  qdisc::Impairment q;
  using std::chrono::microseconds;
  if (im.rateBitsPerSec) q.rate = *im.rateBitsPerSec;
  if (im.delayUs) q.delay = microseconds(*im.delayUs);
  if (im.jitterUs) q.jitter = microseconds(*im.jitterUs);
  if (im.correlationPct) {
    if (im.delayUs) q.delayCorrelation = im.correlationPct;
    if (im.lossPct) q.lossCorrelation = im.correlationPct;
    if (im.reorderPct) q.reorderCorrelation = im.correlationPct;
  }
  q.loss = im.lossPct;
  q.corrupt = im.corruptPct;
  q.duplicate = im.duplicatePct;
  q.reorder = im.reorderPct;
  q.limit = im.limitPackets;
  return q;
}

Result<qdisc::Impairment> parseImpairFlags(const std::vector<std::pair<std::string, std::string>>& flags) {
  qdisc::Impairment q;
  for (const auto& [key, value] : flags) {
    if (key == "rate") {
      q.rate = NETCTL_TRYC(qdisc::parseRate(value), "--{}", key);
    } else if (key == "burst") {
      q.burst = NETCTL_TRYC(qdisc::parseSize(value), "--{}", key);
    } else if (key == "delay") {
      q.delay = NETCTL_TRYC(qdisc::parseDuration(value), "--{}", key);
    } else if (key == "jitter") {
      q.jitter = NETCTL_TRYC(qdisc::parseDuration(value), "--{}", key);
    } else if (key == "delay-correlation" || key == "correlation") {
      q.delayCorrelation = NETCTL_TRYC(qdisc::parsePercent(value), "--{}", key);
    } else if (key == "distribution") {
      q.distribution = NETCTL_TRYC(qdisc::parseDistribution(value), "--{}", key);
    } else if (key == "loss") {
      q.loss = NETCTL_TRYC(qdisc::parsePercent(value), "--{}", key);
    } else if (key == "loss-correlation") {
      q.lossCorrelation = NETCTL_TRYC(qdisc::parsePercent(value), "--{}", key);
    } else if (key == "corrupt" || key == "corruption") {
      q.corrupt = NETCTL_TRYC(qdisc::parsePercent(value), "--{}", key);
    } else if (key == "duplicate") {
      q.duplicate = NETCTL_TRYC(qdisc::parsePercent(value), "--{}", key);
    } else if (key == "reorder") {
      q.reorder = NETCTL_TRYC(qdisc::parsePercent(value), "--{}", key);
    } else if (key == "reorder-correlation") {
      q.reorderCorrelation = NETCTL_TRYC(qdisc::parsePercent(value), "--{}", key);
    } else if (key == "limit") {
      auto n = NETCTL_TRYC(qdisc::parseSize(value), "--{}", key);
      if (n == 0) return invalidInput("--limit: a queue of 0 packets drops everything");
      q.limit = n;
    } else {
      return invalidInput(fmt::format("unknown impairment --{}", key));
    }
  }
  return q;
}

// ---- live.json ---------------------------------------------------------------------------

json impairmentJson(const qdisc::Impairment& q) {
  json j = json::object();
  auto put = [&](const char* k, const auto& v) {
    if (v) j[k] = *v;
  };
  auto putNs = [&](const char* k, const std::optional<qdisc::Nanos>& v) {
    if (v) j[k] = v->count();
  };
  put("rate", q.rate);
  put("burst", q.burst);
  put("rate_limit", q.rateLimit);
  putNs("delay_ns", q.delay);
  putNs("jitter_ns", q.jitter);
  put("delay_correlation", q.delayCorrelation);
  put("distribution", q.distribution);
  put("loss", q.loss);
  put("loss_correlation", q.lossCorrelation);
  put("corrupt", q.corrupt);
  put("duplicate", q.duplicate);
  put("reorder", q.reorder);
  put("reorder_correlation", q.reorderCorrelation);
  put("limit", q.limit);
  return j;
}

qdisc::Impairment impairmentFromJson(const json& j) {
  qdisc::Impairment q;
  if (!j.is_object()) return q;
  auto get = [&](const char* k, auto& out) {
    if (j.contains(k)) out = j.at(k).get<typename std::remove_reference_t<decltype(out)>::value_type>();
  };
  auto getNs = [&](const char* k, std::optional<qdisc::Nanos>& out) {
    if (j.contains(k)) out = qdisc::Nanos(j.at(k).get<int64_t>());
  };
  get("rate", q.rate);
  get("burst", q.burst);
  get("rate_limit", q.rateLimit);
  getNs("delay_ns", q.delay);
  getNs("jitter_ns", q.jitter);
  get("delay_correlation", q.delayCorrelation);
  get("distribution", q.distribution);
  get("loss", q.loss);
  get("loss_correlation", q.lossCorrelation);
  get("corrupt", q.corrupt);
  get("duplicate", q.duplicate);
  get("reorder", q.reorder);
  get("reorder_correlation", q.reorderCorrelation);
  get("limit", q.limit);
  return q;
}

namespace {
std::string livePath(const std::string& root, const std::string& lab) {
  return state::labPaths(root, lab).dir + "/live.json";
}
}  // namespace

Result<LiveState> LiveState::load(const std::string& root, const std::string& lab) {
  LiveState s;
  std::string path = livePath(root, lab);
  if (!fs::exists(path)) return s;
  auto text = NETCTL_TRY(fs::readFile(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return invalidInput(fmt::format("{}: not valid JSON", path));
  auto member = [&](const char* k) { return j.contains(k) && j.at(k).is_object() ? j.at(k) : json::object(); };
  auto parked = [](const json& v) {
    Parked p;
    if (v.contains("up")) p.up = v.at("up").get<std::vector<std::string>>();
    if (v.contains("routes")) p.routes = v.at("routes");
    if (v.contains("addresses")) p.addresses = v.at("addresses");
    return p;
  };
  try {
    const json down = member("down"), impair = member("impair"), stopped = member("stopped");
    for (auto it = down.begin(); it != down.end(); ++it) s.down[it.key()] = parked(it.value());
    for (auto it = impair.begin(); it != impair.end(); ++it) s.impair[it.key()] = impairmentFromJson(it.value());
    for (auto it = stopped.begin(); it != stopped.end(); ++it) s.stopped[it.key()] = parked(it.value());
  } catch (const json::exception& e) {
    return invalidInput(fmt::format("{}: {}", path, e.what()));
  }
  return s;
}

Result<void> LiveState::save(const std::string& root, const std::string& lab) const {
  json j = json::object();
  json dn = json::object();
  for (const auto& [k, p] : down) dn[k] = {{"routes", p.routes}, {"addresses", p.addresses}};
  j["down"] = dn;
  json imp = json::object();
  for (const auto& [k, v] : impair) imp[k] = impairmentJson(v);
  j["impair"] = imp;
  json st = json::object();
  for (const auto& [k, p] : stopped) st[k] = {{"up", p.up}, {"routes", p.routes}, {"addresses", p.addresses}};
  j["stopped"] = st;
  return fs::writeFileAtomic(livePath(root, lab), j.dump(1));
}

Result<std::vector<std::string>> stoppedNodes(const std::string& root, const std::string& lab) {
  auto s = NETCTL_TRY(LiveState::load(root, lab));
  std::vector<std::string> out;
  for (const auto& [k, v] : s.stopped) out.push_back(k);
  return out;
}

// ---- parking: what goes with an interface that goes down ----------------------------------

Result<Parked> snapshot(nl::Socket& s, const std::set<int>& ifindexes) {
  auto links = NETCTL_TRY(link::list(s));
  std::set<int> wanted = ifindexes;
  if (wanted.empty())
    for (const auto& l : links)
      if (l.name != "lo") wanted.insert(l.index);
  Parked p;
  for (int family : {AF_INET, AF_INET6}) {
    for (const auto& r : NETCTL_TRY(route::list(s, family))) {
      if (!wanted.count(r.dev) || r.protocol == RTPROT_KERNEL) continue;
      json j{{"dst", r.dst.str()}, {"dev", r.dev}, {"metric", r.metric}, {"table", r.table}};
      if (r.via) j["via"] = r.via->str();
      if (r.src) j["src"] = r.src->str();
      p.routes.push_back(std::move(j));
    }
  }
  for (const auto& a : NETCTL_TRY(addr::list(s, AF_INET6)))
    if (wanted.count(a.index) && a.scope == RT_SCOPE_UNIVERSE)
      p.addresses.push_back({{"dev", a.index}, {"prefix", a.prefix.str()}});
  return p;
}

Result<void> restore(nl::Socket& s, const Parked& p) {
  for (const auto& a : p.addresses) {
    auto prefix = NETCTL_TRY(ip::Prefix::parse(a.at("prefix").get<std::string>()));
    auto r = addr::add(s, link::Ref(a.at("dev").get<int>()), prefix, addr::Options{.replace = true});
    if (!r && r.error().kind() != Error::Kind::kNotFound) return r;  // a link gone since: skip
  }
  std::vector<route::Route> routes;
  for (const auto& j : p.routes) {
    route::Route r;
    r.dst = NETCTL_TRY(ip::Prefix::parse(j.at("dst").get<std::string>()));
    if (j.contains("via")) r.via = NETCTL_TRY(ip::Address::parse(j.at("via").get<std::string>()));
    if (j.contains("src")) r.src = NETCTL_TRY(ip::Address::parse(j.at("src").get<std::string>()));
    r.dev = link::Ref(j.at("dev").get<int>());
    r.metric = j.value("metric", 0u);
    r.table = j.value("table", route::kMainTable);
    routes.push_back(std::move(r));
  }
  std::optional<Error> last;
  for (int pass = 0; pass < 2 && !routes.empty(); ++pass) {
    std::vector<route::Route> failed;
    last.reset();
    for (auto& r : routes) {
      auto ok = route::replace(s, r);
      if (!ok) failed.push_back(std::move(r)), last = std::move(ok).error();
    }
    routes = std::move(failed);
  }
  if (last) return std::unexpected(std::move(*last).context("restoring the routes"));
  return {};
}

// ---- a running lab -----------------------------------------------------------------------

Result<RunningLab> RunningLab::open(const std::string& root, const std::string& lab) {
  auto paths = state::labPaths(root, lab);
  if (!fs::exists(paths.topology)) return notFound(fmt::format("lab {} is not up", lab));
  auto text = NETCTL_TRYC(fs::readFile(paths.topology), "lab {}", lab);
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return invalidInput(fmt::format("{}: not valid JSON", paths.topology));
  RunningLab r;
  r.root_ = root;
  r.lab_ = std::make_unique<Lab>(NETCTL_TRYC(fromJson(doc), "lab {}", lab));
  r.lab_->reindex();
  return r;
}

RunningLab RunningLab::of(const std::string& root, const Lab& lab) {
  RunningLab r;
  r.root_ = root;
  r.lab_ = std::make_unique<Lab>(lab);
  r.lab_->reindex();
  return r;
}

std::string RunningLab::netnsDir() const { return state::labPaths(root_, lab_->name).dir + "/netns"; }

Result<const Node*> RunningLab::node(const std::string& name) const {
  const Node* n = lab_->node(name);
  if (!n || n->kind != NodeKind::kLinux) return notFound(fmt::format("lab {} has no node {}", lab_->name, name));
  return n;
}

std::vector<End> RunningLab::ends(const Link& l) const {
  std::vector<End> out;
  const Endpoint* first = nullptr;
  const Endpoint* bridge = nullptr;
  for (const auto& e : l.endpoints) {
    if (e.kind == EndpointKind::kNode) {
      out.push_back({e.node, e.iface});
      if (!first) first = &e;
    } else {
      bridge = &e;
    }
  }
  // The host end, named as apply.cc's addLink names it.
  if (bridge) {
    out.push_back({"", bridge->iface});
  } else if (l.type == LinkType::kHost && first) {
    out.push_back({"", l.hostInterface.empty() ? names::hostVeth(lab_->name, first->node, first->iface)
                                               : l.hostInterface});
  }
  return out;
}

Result<RunningLab::Found> RunningLab::find(const IfaceRef& at) const {
  NETCTL_TRY(node(at.node));
  for (const auto& l : lab_->links) {
    auto es = ends(l);
    for (size_t i = 0; i < es.size(); ++i) {
      if (es[i].node != at.node || es[i].iface != at.iface) continue;
      Found f{es[i], std::nullopt, &l};
      if (l.type == LinkType::kVeth || l.type == LinkType::kHost)
        if (es.size() == 2) f.peer = es[1 - i];
      return f;
    }
  }
  for (const auto& a : lab_->node(at.node)->networks) {
    if (a.iface != at.iface) continue;
    Found f{{at.node, at.iface}, std::nullopt, nullptr};
    const Network* net = lab_->network(a.network);
    if (net && net->driver == NetworkDriver::kBridge)
      f.peer = End{"", names::hostVeth(lab_->name, at.node, at.iface)};
    return f;
  }
  return notFound(fmt::format("lab {} has no interface {}", lab_->name, at.str()));
}

std::vector<IfaceRef> RunningLab::interfaces() const {
  std::vector<IfaceRef> out;
  for (const auto& n : lab_->nodes) {
    if (n.kind != NodeKind::kLinux) continue;
    for (const auto& a : n.networks) out.push_back({n.name, a.iface});
    for (const auto& l : lab_->links)
      for (const auto& e : l.endpoints)
        if (e.kind == EndpointKind::kNode && e.node == n.name) out.push_back({n.name, e.iface});
  }
  return out;
}

Result<const netns::Handle*> RunningLab::handle(const std::string& node) {
  auto it = ns_.find(node);
  if (it != ns_.end()) return &it->second;
  auto h = NETCTL_TRYC(netns::openPath(netnsDir() + "/" + names::netns(lab_->name, node)),
                       "lab {}: node {}", lab_->name, node);
  return &ns_.emplace(node, std::move(h)).first->second;
}

Result<nl::Socket*> RunningLab::socket(const End& e) {
  if (e.host()) return cache_.current();
  const netns::Handle* h = NETCTL_TRY(handle(e.node));
  return cache_.get(*h);
}

}  // namespace netctl::live
