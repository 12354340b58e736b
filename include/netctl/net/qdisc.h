// Link impairments as egress qdiscs, through rtnetlink (never `tc`): a rate limit (tbf) and
// netem's delay, jitter, loss, corruption, duplication, reordering and queue limit.
//
// Layout on the interface's root (everything netctl sets lives under handle 1:):
//   rate only          tbf 1: at the root
//   netem only         netem 1: at the root
//   rate and netem     tbf 1: at the root, netem 10: as its child (parent 1:1)
// The token bucket at the root is what meets the wire, so the rate is exact whatever netem
// holds back (netem's own rate option paces packet by packet behind its delay queue, and a
// queue limit in packets there would cap a multi-gigabit rate); this is also Mininet's order.
// Rates are bits/s on the outside and bytes/s in the kernel; above 2^32-1 bytes/s (~34 Gbit/s)
// the rate travels in TCA_TBF_RATE64.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/net/link.h"
#include "netctl/net/netlink.h"

namespace netctl::qdisc {

using Nanos = std::chrono::nanoseconds;

// Every field is optional: absent means "not impaired that way" (for apply and read) or
// "leave as it is" (for the changes given to merge).
struct Impairment {
  // Shaper (tbf).
  std::optional<uint64_t> rate;   // bits/s; granularity 8 bit/s (the kernel counts bytes)
  std::optional<uint32_t> burst;  // bytes the bucket holds; default: 2 ms of rate, >= 16 KiB
  std::optional<uint32_t> rateLimit;  // bytes queued behind the shaper; default: 50 ms of rate + burst
  // netem.
  std::optional<Nanos> delay;
  std::optional<Nanos> jitter;       // needs delay
  std::optional<double> delayCorrelation;  // percent
  // The jitter's shape: "normal", "pareto", "paretonormal" (iproute2's tables) or "uniform"
  // (netem's own, no table). Needs jitter. Not in read(): the kernel never dumps the table.
  std::optional<std::string> distribution;
  std::optional<double> loss;        // percent
  std::optional<double> lossCorrelation;
  std::optional<double> corrupt;     // percent
  std::optional<double> duplicate;   // percent
  std::optional<double> reorder;     // percent; needs delay (reordered packets skip it)
  std::optional<double> reorderCorrelation;
  std::optional<uint32_t> limit;     // netem queue, packets (default 1000)

  bool hasRate() const { return rate.has_value() && *rate > 0; }
  // Any netem parameter that changes traffic (a bare limit does not need netem).
  bool hasNetem() const;
  bool empty() const { return !hasRate() && !hasNetem(); }
  bool operator==(const Impairment&) const = default;
};

// `changes` over `current`: each field present in changes wins ("set changes only the
// parameters it is given"). Pure.
Impairment merge(const Impairment& current, const Impairment& changes);
// kInvalidInput for combinations the kernel would refuse or silently ignore: jitter or reorder
// without delay, a percentage outside 0..100, a burst smaller than one full-size frame.
Result<void> validate(const Impairment& imp);

// User text. Errors are kInvalidInput naming the value.
// "50mbit", "10gbit", "1.5Gbit", "800kbit", "1000000" (bits/s); also kibit/mibit/gibit/tibit.
// tc's byte units ("mbps") are refused as ambiguous.
Result<uint64_t> parseRate(std::string_view text);
// "20ms", "1.5s", "300us", "100ns"; a unit is required.
Result<Nanos> parseDuration(std::string_view text);
// "0.5%" or "0.5": percent in 0..100.
Result<double> parsePercent(std::string_view text);
// "normal", "pareto", "paretonormal", "uniform".
Result<std::string> parseDistribution(std::string_view text);
// A delay distribution table from iproute2's files (<dir>/<name>.dist in /usr/lib/tc or
// /usr/lib/<multiarch>/tc, or `dirs` when given), shrunk to `maxEntries` by averaging runs of
// neighbours: the table is an inverse CDF, sorted, and the full 4096 entries (8 KiB) do not fit
// one nl::Message. kUnsupported naming iproute2 when no file is found.
Result<std::vector<int16_t>> loadDistribution(std::string_view name, size_t maxEntries = 1024,
                                              const std::vector<std::string>& dirs = {});
// "1500", "64k", "1m" (bytes, binary multiples as tc: k = 1024).
Result<uint32_t> parseSize(std::string_view text);
// The inverse, for show: "50mbit", "1.5gbit", "999bit"; "20ms", "1.5s", "300us".
std::string formatRate(uint64_t bitsPerSecond);
std::string formatDuration(Nanos d);

// Replaces netctl's qdiscs on the link's egress with `imp` (an empty one resets). Same layout:
// changed in place; other layout: the root is deleted and the new tree created in one send.
// A qdisc kind the kernel lacks is kUnsupported naming its option (CONFIG_NET_SCH_NETEM, ...).
Result<void> apply(nl::Socket& s, const link::Ref& link, const Impairment& imp);
// Deletes the root qdisc, back to the device's default; succeeds when there is nothing to delete.
Result<void> reset(nl::Socket& s, const link::Ref& link);

// What the kernel has on the link's egress, parsed from an RTM_GETQDISC dump.
struct State {
  std::string rootKind;   // "" when the kernel shows none (a veth's built-in noqueue)
  std::string childKind;  // the root's child when netctl's layout has one ("netem")
  Impairment impairment;  // from tbf and netem; empty for any other kind
};
Result<State> read(nl::Socket& s, const link::Ref& link);

// Whether the kernel has a qdisc kind: creates and deletes it on `link`'s root. Use a scratch
// link: kUnsupported naming the option when missing.
Result<void> probe(nl::Socket& s, const link::Ref& link, std::string_view kind);
// probe() in a new anonymous netns on a veth pair made for it (for `netctl doctor`).
Result<void> probeScratch(std::string_view kind);

// "CONFIG_NET_SCH_NETEM" for "netem", "CONFIG_NET_SCH_TBF", "CONFIG_NET_SCH_HTB"; "" when unknown.
std::string_view configOption(std::string_view kind);
// The Error for a failed qdisc request: "kind is unknown" becomes kUnsupported naming the option.
Error errorFor(const nl::Status& st, std::string_view kind, std::string what);

}  // namespace netctl::qdisc
