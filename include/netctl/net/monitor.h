// Link and address events from several network namespaces at once (for `netctl events LAB`):
// one rtnetlink socket per netns, opened inside it and bound to the RTNLGRP_LINK,
// RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR multicast groups, all waited on with one epoll.
//
// The kernel repeats RTM_NEWLINK for every attribute change and RTM_NEWADDR for every IPv6
// flag change; the monitor keeps each netns's links (up or not) and addresses, seeded by a dump
// when the netns is added, and reports only real transitions. Events of one netns come in the
// kernel's order; across namespaces, in the order they are read.
//
// What the kernel does not announce is not seen: a veth peer's carrier change comes through
// linkwatch (up to a second late, and a down+up quicker than that is no change), and an IPv6
// address removed before addrconf announced it (a work queue, even with nodad) never shows.
// If the socket overflows (ENOBUFS), the monitor re-reads the netns and reports the difference.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"
#include "netctl/net/netns.h"

namespace netctl::monitor {

enum class Kind { kLinkAdded, kLinkRemoved, kLinkUp, kLinkDown, kAddressAdded, kAddressRemoved };
std::string_view kindName(Kind k);  // "link-added", "link-up", "address-removed", ...

struct Event {
  std::string netns;  // the name given to Monitor::add
  Kind kind = Kind::kLinkAdded;
  std::string ifname;
  int index = 0;
  std::string address;  // "10.0.0.1/24" for address events, "" otherwise
  // Link events: the link's state after the change. Up means administratively up AND with
  // carrier (IFF_UP and IFF_LOWER_UP), so a veth whose peer goes down reports link-down too.
  bool adminUp = false;
  bool carrier = false;
  std::chrono::system_clock::time_point time;
};

// {"time":"2026-11-23T08:30:00.123456Z","netns":"lab-r1","event":"link-down","ifname":"eth1",...}
std::string toJsonLine(const Event& e);
// "08:30:00.123456 lab-r1 link-down eth1 (ifindex 5, admin up, no carrier)"
std::string toText(const Event& e);
// The events' time format: "2026-11-23T08:30:00.123456Z" (full) or "08:30:00.123456".
std::string timeText(std::chrono::system_clock::time_point t, bool full);

class Monitor {
 public:
  static Result<Monitor> create();
  Monitor(Monitor&&) noexcept;
  Monitor& operator=(Monitor&&) noexcept;
  ~Monitor();

  // Subscribes in ns (a socket opened inside it) and records its current links and addresses;
  // later changes become events named `name`. Not concurrent with next().
  Result<void> add(const netns::Handle& ns, std::string name);
  // The next event; nullopt after `timeout` without one, or once stop() was called.
  Result<std::optional<Event>> next(std::chrono::milliseconds timeout);
  // Makes next() return nullopt at once, now and from then on; safe from any thread and from
  // a signal handler (one write to an eventfd).
  void stop();

 private:
  struct Source;
  Monitor(UniqueFd epoll, UniqueFd stop);
  Result<void> readSource(Source& src);

  UniqueFd epoll_;
  UniqueFd stop_;
  bool stopped_ = false;
  std::vector<std::unique_ptr<Source>> sources_;
  std::deque<Event> queue_;
};

}  // namespace netctl::monitor
