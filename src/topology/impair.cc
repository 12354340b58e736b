// `netctl impair set|show|reset`: one interface's egress impairment, changed in place through
// the qdisc engine (src/net/qdisc.cc) and recorded in live.json.
#include <fmt/format.h>

#include <cmath>

#include "live_common.h"
#include "netctl/topology/state.h"

namespace netctl::live {

using nlohmann::json;

Result<void> probeImpairment(std::string_view kind) { return qdisc::probeScratch(kind); }

Result<void> impairSet(const std::string& root, const std::string& lab, const IfaceRef& at,
                       const qdisc::Impairment& changes) {
  auto lock = NETCTL_TRY(state::LabLock::acquire(root, lab, /*wait=*/true));
  auto run = NETCTL_TRY(RunningLab::open(root, lab));
  auto found = NETCTL_TRY(run.find(at));
  auto live = NETCTL_TRY(LiveState::load(root, lab));
  auto* sock = NETCTL_TRY(run.socket(found.self));
  const std::string what = fmt::format("impairing {}", at.str());

  // What the interface carries now: our own record (it keeps what the kernel never dumps, the
  // delay distribution), else the kernel's.
  qdisc::Impairment current;
  if (auto it = live.impair.find(at.str()); it != live.impair.end()) {
    current = it->second;
  } else {
    auto st = NETCTL_TRYC(qdisc::read(*sock, link::Ref(at.iface)), "{}", what);
    current = st.impairment;
  }
  // A new rate resizes the bucket and its queue from the new rate unless they are given too.
  if (changes.rate && !changes.burst) current.burst.reset();
  if (changes.rate && !changes.rateLimit) current.rateLimit.reset();
  qdisc::Impairment merged = qdisc::merge(current, changes);
  NETCTL_TRYC(qdisc::validate(merged), "{}", what);
  if (auto ok = qdisc::apply(*sock, link::Ref(at.iface), merged); !ok) {
    // A refused change (netem missing) can take the old tree with it: put the old one back.
    (void)qdisc::apply(*sock, link::Ref(at.iface), current);
    return std::unexpected(std::move(ok).error().context(what));
  }
  if (merged.empty()) {
    live.impair.erase(at.str());
  } else {
    live.impair[at.str()] = merged;
  }
  return live.save(root, lab);
}

Result<void> impairReset(const std::string& root, const std::string& lab, const IfaceRef& at) {
  auto lock = NETCTL_TRY(state::LabLock::acquire(root, lab, /*wait=*/true));
  auto run = NETCTL_TRY(RunningLab::open(root, lab));
  auto found = NETCTL_TRY(run.find(at));
  auto live = NETCTL_TRY(LiveState::load(root, lab));
  auto* sock = NETCTL_TRY(run.socket(found.self));
  NETCTL_TRYC(qdisc::reset(*sock, link::Ref(at.iface)), "resetting {}", at.str());
  live.impair.erase(at.str());
  return live.save(root, lab);
}

Result<std::vector<ImpairRow>> impairShow(const std::string& root, const std::string& lab,
                                          const std::optional<IfaceRef>& at) {
  auto run = NETCTL_TRY(RunningLab::open(root, lab));
  std::vector<IfaceRef> which = at ? std::vector<IfaceRef>{*at} : run.interfaces();
  std::vector<ImpairRow> rows;
  for (const auto& w : which) {
    auto found = NETCTL_TRY(run.find(w));
    auto* sock = NETCTL_TRY(run.socket(found.self));
    auto st = qdisc::read(*sock, link::Ref(w.iface));
    if (!st) {
      // Listing a whole lab skips an interface that is not there (a link that failed to come up).
      if (!at && st.error().kind() == Error::Kind::kNotFound) continue;
      return std::unexpected(std::move(st).error().context(fmt::format("reading {}", w.str())));
    }
    rows.push_back({w, std::move(*st)});
  }
  return rows;
}

json toJson(const ImpairRow& row) {
  const qdisc::Impairment& q = row.state.impairment;
  auto pct = [](const std::optional<double>& v) -> json {
    if (!v) return nullptr;
    return std::round(*v * 100) / 100;
  };
  auto dur = [](const std::optional<qdisc::Nanos>& v) -> json {
    if (!v) return nullptr;
    return qdisc::formatDuration(*v);
  };
  std::string kind = row.state.rootKind;
  if (!row.state.childKind.empty()) kind += "+" + row.state.childKind;
  json j{{"node", row.where.node},
         {"interface", row.where.iface},
         {"qdisc", kind.empty() ? json(nullptr) : json(kind)},
         {"delay", dur(q.delay)},
         {"jitter", dur(q.jitter)},
         {"packet_loss", pct(q.loss)},
         {"corruption", pct(q.corrupt)},
         {"duplicate", pct(q.duplicate)},
         {"reorder", pct(q.reorder)},
         {"rate", q.rate ? json(*q.rate / 1000) : json(nullptr)},  // kbit/s, as containerlab
         {"rate_bits", q.rate ? json(*q.rate) : json(nullptr)},
         {"burst", q.burst ? json(*q.burst) : json(nullptr)},
         {"limit", q.limit ? json(*q.limit) : json(nullptr)}};
  return j;
}

}  // namespace netctl::live
