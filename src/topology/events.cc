// `netctl events LAB`: link and address changes from every node's netns (the netlink monitor,
// src/net/monitor.cc) and node state changes (stop, start, a command that exits, a node that
// is gone), read from the runtime and live.json every 250 ms, as text or JSON lines.
#include <fmt/format.h>

#include <chrono>

#include "live_common.h"
#include "netctl/net/monitor.h"
#include "netctl/runtime/container.h"
#include "netctl/topology/names.h"

namespace netctl::live {

namespace names = topology::names;
namespace {

using Clock = std::chrono::steady_clock;


// "running", "created", "exited" (its command ended), "stopped" (by netctl stop), "gone".
std::string nodeState(runtime::Runtime& rt, const LiveState& live, const std::string& lab,
                      const std::string& node) {
  if (live.stopped.count(node)) return "stopped";
  auto st = rt.state(names::netns(lab, node));
  if (!st) return "gone";
  switch (st->status) {
    case runtime::Status::kRunning: return "running";
    case runtime::Status::kCreated: return "created";
    case runtime::Status::kStopped: return "exited";
    case runtime::Status::kGone: return "gone";
  }
  return "gone";
}

std::string nodeEvent(const std::string& state) {
  if (state == "running") return "node-started";
  return "node-" + state;
}

}  // namespace

Result<void> streamEvents(const std::string& root, const std::string& lab, const EventOptions& o) {
  auto run = NETCTL_TRY(RunningLab::open(root, lab));
  auto mon = NETCTL_TRY(monitor::Monitor::create());
  std::vector<std::string> nodes;
  for (const auto& n : run.model().nodes) {
    if (n.kind != topology::NodeKind::kLinux) continue;
    const netns::Handle* h = NETCTL_TRY(run.handle(n.name));
    NETCTL_TRYC(mon.add(*h, names::netns(lab, n.name)), "watching node {}", n.name);
    nodes.push_back(n.name);
  }
  runtime::Runtime rt(root);
  std::map<std::string, std::string> states;
  auto poll = [&](bool report) -> Result<void> {
    auto live = LiveState::load(root, lab);
    if (!live) return std::unexpected(std::move(live).error());
    for (const auto& n : nodes) {
      std::string now = nodeState(rt, *live, lab, n);
      std::string& before = states[n];
      if (report && now != before) {
        auto t = std::chrono::system_clock::now();
        std::string ns = names::netns(lab, n);
        if (o.json)
          fmt::print(o.out, "{}\n", nlohmann::json{{"time", monitor::timeText(t, true)}, {"netns", ns},
                                                   {"event", nodeEvent(now)}, {"node", n}, {"state", now}}
                                        .dump());
        else
          fmt::print(o.out, "{} {} {} {}\n", monitor::timeText(t, false), ns, nodeEvent(now), n);
        std::fflush(o.out);
      }
      before = now;
    }
    return {};
  };
  NETCTL_TRY(poll(false));
  std::optional<Clock::time_point> deadline;
  if (o.seconds) deadline = Clock::now() + std::chrono::milliseconds(int64_t(*o.seconds * 1000));
  auto nextPoll = Clock::now() + std::chrono::milliseconds(250);
  for (;;) {
    if (o.stop && o.stop->load()) break;
    auto now = Clock::now();
    if (deadline && now >= *deadline) break;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(nextPoll - now);
    if (deadline) wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now));
    auto ev = NETCTL_TRY(mon.next(std::max(wait, std::chrono::milliseconds(0))));
    if (ev) {
      fmt::print(o.out, "{}\n", o.json ? monitor::toJsonLine(*ev) : monitor::toText(*ev));
      std::fflush(o.out);
    }
    if (Clock::now() >= nextPoll) {
      NETCTL_TRY(poll(true));
      nextPoll = Clock::now() + std::chrono::milliseconds(250);
    }
  }
  return {};
}

}  // namespace netctl::live
