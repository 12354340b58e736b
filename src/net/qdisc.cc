#include "netctl/net/qdisc.h"

#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include <fmt/ranges.h>
#include <vector>

#include "net/rtattr.h"
#include "netctl/base/fs.h"

namespace netctl::qdisc {
namespace {

constexpr uint32_t kRootHandle = 0x00010000;   // 1:
constexpr uint32_t kRootClass = 0x00010001;    // 1:1, tbf's one class
constexpr uint32_t kChildHandle = 0x00100000;  // 10:
constexpr uint32_t kDefaultNetemLimit = 1000;  // packets, as tc
constexpr int kPschedShift = 6;                // kernel psched ticks are 64 ns
constexpr double kU32Max = 4294967295.0;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A non-negative decimal number at the start of text; the rest is the unit.
bool splitNumber(std::string_view text, double& value, std::string& unit) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || p != text.data() + i || !std::isfinite(value) || value < 0) return false;
  unit = lower(text.substr(i));
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

uint32_t toScaled(double percent) { return static_cast<uint32_t>(std::llround(percent / 100.0 * kU32Max)); }
// Six decimals: what a user can have asked for, without the noise of the u32 scale.
double fromScaled(uint32_t v) { return std::round(v / kU32Max * 100.0 * 1e6) / 1e6; }
uint64_t nsToTicks(uint64_t ns) { return ns >> kPschedShift; }

uint64_t rateBytes(const Impairment& imp) { return *imp.rate / 8; }
uint32_t clampU32(uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, std::numeric_limits<uint32_t>::max())); }
uint32_t defaultBurst(uint64_t bytesPerSec) { return clampU32(std::max<uint64_t>(bytesPerSec / 500, 16384)); }
uint32_t burstOf(const Impairment& imp) { return imp.burst ? *imp.burst : defaultBurst(rateBytes(imp)); }
uint32_t rateLimitOf(const Impairment& imp) {
  return imp.rateLimit ? *imp.rateLimit : clampU32(rateBytes(imp) / 20 + burstOf(imp));
}

tcmsg* putTcmsg(nl::Message& m, int ifindex, uint32_t handle, uint32_t parent) {
  auto* t = m.putHeader<tcmsg>();
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = ifindex;
  t->tcm_handle = handle;
  t->tcm_parent = parent;
  return t;
}

void putTbfOptions(nl::Message& m, const Impairment& imp) {
  uint64_t bytes = rateBytes(imp);
  uint32_t burst = burstOf(imp);
  tc_tbf_qopt q{};
  // The kernel ignores the rate table when the link layer is given, so none is sent.
  q.rate.rate = clampU32(bytes);
  q.rate.linklayer = TC_LINKLAYER_ETHERNET;
  q.limit = rateLimitOf(imp);
  q.buffer = clampU32(nsToTicks(static_cast<uint64_t>(static_cast<long double>(burst) * 1e9L / bytes)));
  nlattr* opts = m.nestStart(TCA_OPTIONS);
  m.putBytes(TCA_TBF_PARMS, &q, sizeof q);
  if (bytes > std::numeric_limits<uint32_t>::max()) m.putBytes(TCA_TBF_RATE64, &bytes, sizeof bytes);
  m.putU32(TCA_TBF_BURST, burst);  // bytes; the kernel derives the buffer time from it
  m.nestEnd(opts);
}

// netem's TCA_OPTIONS is not a plain nest: a struct tc_netem_qopt, then attributes.
Result<void> putNetemOptions(nl::Message& m, const Impairment& imp) {
  tc_netem_qopt q{};
  uint64_t delay = imp.delay ? static_cast<uint64_t>(imp.delay->count()) : 0;
  uint64_t jitter = imp.jitter ? static_cast<uint64_t>(imp.jitter->count()) : 0;
  q.latency = clampU32(nsToTicks(delay));
  q.jitter = clampU32(nsToTicks(jitter));
  q.limit = imp.limit ? *imp.limit : kDefaultNetemLimit;
  q.loss = toScaled(imp.loss.value_or(0));
  q.duplicate = toScaled(imp.duplicate.value_or(0));
  // Reordering sends every gap-th packet at once; tc's default gap of 1 with a probability
  // makes it "this percentage of packets skips the delay".
  if (imp.reorder.value_or(0) > 0) q.gap = 1;
  nlattr* opts = m.nestStart(TCA_OPTIONS);
  void* raw = mnl_nlmsg_put_extra_header(m.header(), NLA_ALIGN(sizeof q));
  std::memcpy(raw, &q, sizeof q);
  int64_t d64 = static_cast<int64_t>(delay), j64 = static_cast<int64_t>(jitter);
  m.putBytes(TCA_NETEM_LATENCY64, &d64, sizeof d64);
  m.putBytes(TCA_NETEM_JITTER64, &j64, sizeof j64);
  tc_netem_corr corr{toScaled(imp.delayCorrelation.value_or(0)), toScaled(imp.lossCorrelation.value_or(0)), 0};
  m.putBytes(TCA_NETEM_CORR, &corr, sizeof corr);
  tc_netem_reorder reorder{toScaled(imp.reorder.value_or(0)), toScaled(imp.reorderCorrelation.value_or(0))};
  m.putBytes(TCA_NETEM_REORDER, &reorder, sizeof reorder);
  tc_netem_corrupt corrupt{toScaled(imp.corrupt.value_or(0)), 0};
  m.putBytes(TCA_NETEM_CORRUPT, &corrupt, sizeof corrupt);
  if (imp.distribution && *imp.distribution != "uniform") {
    auto table = NETCTL_TRY(loadDistribution(*imp.distribution));
    m.putBytes(TCA_NETEM_DELAY_DIST, table.data(), table.size() * sizeof(int16_t));
  }
  m.nestEnd(opts);
  return {};
}

struct Tree {
  uint32_t rootHandle = 0;
  State state;
};

void parseTbf(const nlattr* options, Impairment& imp) {
  rtattr::Table<TCA_TBF_MAX> tb(options);
  const nlattr* parms = tb[TCA_TBF_PARMS];
  if (!parms || mnl_attr_get_payload_len(parms) < sizeof(tc_tbf_qopt)) return;
  tc_tbf_qopt q;
  std::memcpy(&q, mnl_attr_get_payload(parms), sizeof q);
  uint64_t bytes = q.rate.rate;
  if (const nlattr* r64 = tb[TCA_TBF_RATE64]; r64 && mnl_attr_get_payload_len(r64) >= 8) bytes = mnl_attr_get_u64(r64);
  imp.rate = bytes * 8;
  // The kernel keeps the bucket as a time (buffer, in ticks); in bytes it is that time at rate.
  imp.burst = clampU32(static_cast<uint64_t>(
      std::llround(static_cast<long double>(bytes) * (static_cast<uint64_t>(q.buffer) << kPschedShift) / 1e9L)));
  imp.rateLimit = q.limit;
}

void parseNetem(const nlattr* options, Impairment& imp) {
  size_t len = mnl_attr_get_payload_len(options);
  if (len < sizeof(tc_netem_qopt)) return;
  const char* payload = static_cast<const char*>(mnl_attr_get_payload(options));
  tc_netem_qopt q;
  std::memcpy(&q, payload, sizeof q);
  std::array<const nlattr*, TCA_NETEM_MAX + 1> tb{};
  size_t off = NLA_ALIGN(sizeof q);
  if (len > off)
    mnl_attr_parse_payload(
        payload + off, len - off,
        [](const nlattr* a, void* data) {
          auto& t = *static_cast<std::array<const nlattr*, TCA_NETEM_MAX + 1>*>(data);
          int type = mnl_attr_get_type(a);
          if (type >= 0 && type <= TCA_NETEM_MAX) t[type] = a;
          return MNL_CB_OK;
        },
        &tb);
  auto s64 = [&](int type, uint32_t ticks) -> int64_t {
    if (tb[type] && mnl_attr_get_payload_len(tb[type]) >= 8) return static_cast<int64_t>(mnl_attr_get_u64(tb[type]));
    return static_cast<int64_t>(static_cast<uint64_t>(ticks) << kPschedShift);
  };
  auto setPercent = [](std::optional<double>& field, uint32_t v) {
    if (v) field = fromScaled(v);
  };
  if (int64_t d = s64(TCA_NETEM_LATENCY64, q.latency); d > 0) imp.delay = Nanos(d);
  if (int64_t j = s64(TCA_NETEM_JITTER64, q.jitter); j > 0) imp.jitter = Nanos(j);
  imp.limit = q.limit;
  setPercent(imp.loss, q.loss);
  setPercent(imp.duplicate, q.duplicate);
  if (tb[TCA_NETEM_CORR] && mnl_attr_get_payload_len(tb[TCA_NETEM_CORR]) >= sizeof(tc_netem_corr)) {
    tc_netem_corr c;
    std::memcpy(&c, mnl_attr_get_payload(tb[TCA_NETEM_CORR]), sizeof c);
    setPercent(imp.delayCorrelation, c.delay_corr);
    setPercent(imp.lossCorrelation, c.loss_corr);
  }
  if (tb[TCA_NETEM_REORDER] && mnl_attr_get_payload_len(tb[TCA_NETEM_REORDER]) >= sizeof(tc_netem_reorder)) {
    tc_netem_reorder r;
    std::memcpy(&r, mnl_attr_get_payload(tb[TCA_NETEM_REORDER]), sizeof r);
    setPercent(imp.reorder, r.probability);
    setPercent(imp.reorderCorrelation, r.correlation);
  }
  if (tb[TCA_NETEM_CORRUPT] && mnl_attr_get_payload_len(tb[TCA_NETEM_CORRUPT]) >= sizeof(tc_netem_corrupt)) {
    tc_netem_corrupt c;
    std::memcpy(&c, mnl_attr_get_payload(tb[TCA_NETEM_CORRUPT]), sizeof c);
    setPercent(imp.corrupt, c.probability);
  }
}

Result<Tree> readTree(nl::Socket& s, int ifindex, std::string_view linkName) {
  nl::Message m(RTM_GETQDISC, 0);
  putTcmsg(m, ifindex, 0, 0);
  struct Seen {
    uint32_t handle, parent;
    std::string kind;
    std::vector<char> options;  // a copy of TCA_OPTIONS, header included
  };
  std::vector<Seen> seen;
  NETCTL_TRY(s.dump(m, fmt::format("reading the qdiscs of {}", linkName), [&] { seen.clear(); },
                    [&](const nlmsghdr* nlh) {
                      if (nlh->nlmsg_type != RTM_NEWQDISC) return;
                      auto* t = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(nlh));
                      if (t->tcm_ifindex != ifindex) return;  // older kernels dump every device
                      rtattr::Table<TCA_MAX> tb(nlh, sizeof(tcmsg));
                      Seen q{t->tcm_handle, t->tcm_parent, tb.str(TCA_KIND), {}};
                      if (const nlattr* o = tb[TCA_OPTIONS]) {
                        const char* p = reinterpret_cast<const char*>(o);
                        q.options.assign(p, p + o->nla_len);
                      }
                      seen.push_back(std::move(q));
                    }));
  Tree tree;
  auto opts = [](const Seen& q) {
    return q.options.empty() ? nullptr : reinterpret_cast<const nlattr*>(q.options.data());
  };
  const Seen* root = nullptr;
  for (const auto& q : seen)
    if (q.parent == TC_H_ROOT) root = &q;
  if (!root) return tree;
  tree.rootHandle = root->handle;
  tree.state.rootKind = root->kind;
  if (root->kind == "tbf" && opts(*root)) parseTbf(opts(*root), tree.state.impairment);
  if (root->kind == "netem" && opts(*root)) parseNetem(opts(*root), tree.state.impairment);
  if (root->handle != 0)
    for (const auto& q : seen)
      if (q.parent == TC_H_MAKE(root->handle, 1)) {
        tree.state.childKind = q.kind;
        if (root->kind == "tbf" && q.kind == "netem" && opts(q)) parseNetem(opts(q), tree.state.impairment);
      }
  return tree;
}

nl::Message deleteRoot(int ifindex, uint32_t handle) {
  nl::Message m(RTM_DELQDISC, 0);
  putTcmsg(m, ifindex, handle, TC_H_ROOT);
  return m;
}

bool validPercent(const std::optional<double>& p) { return !p || (*p >= 0 && *p <= 100); }

}  // namespace

bool Impairment::hasNetem() const {
  auto pos = [](const std::optional<double>& p) { return p.value_or(0) > 0; };
  return (delay && delay->count() > 0) || (jitter && jitter->count() > 0) || pos(loss) || pos(corrupt) ||
         pos(duplicate) || pos(reorder);
}

Impairment merge(const Impairment& current, const Impairment& changes) {
  Impairment out = current;
  auto take = [](auto& dst, const auto& src) {
    if (src) dst = src;
  };
  take(out.rate, changes.rate);
  take(out.burst, changes.burst);
  take(out.rateLimit, changes.rateLimit);
  take(out.delay, changes.delay);
  take(out.jitter, changes.jitter);
  take(out.delayCorrelation, changes.delayCorrelation);
  take(out.distribution, changes.distribution);
  take(out.loss, changes.loss);
  take(out.lossCorrelation, changes.lossCorrelation);
  take(out.corrupt, changes.corrupt);
  take(out.duplicate, changes.duplicate);
  take(out.reorder, changes.reorder);
  take(out.reorderCorrelation, changes.reorderCorrelation);
  take(out.limit, changes.limit);
  return out;
}

Result<void> validate(const Impairment& imp) {
  bool delayed = imp.delay && imp.delay->count() > 0;
  if (imp.jitter && imp.jitter->count() > 0 && !delayed) return invalidInput("jitter needs a delay");
  if (imp.reorder.value_or(0) > 0 && !delayed) return invalidInput("reordering needs a delay (reordered packets skip it)");
  if (imp.distribution) {
    NETCTL_TRY(parseDistribution(*imp.distribution));
    if (*imp.distribution != "uniform" && !(imp.jitter && imp.jitter->count() > 0))
      return invalidInput(fmt::format("distribution {} shapes the jitter: it needs a jitter", *imp.distribution));
  }
  if ((imp.delay && imp.delay->count() < 0) || (imp.jitter && imp.jitter->count() < 0))
    return invalidInput("a delay cannot be negative");
  for (const auto* p : {&imp.delayCorrelation, &imp.loss, &imp.lossCorrelation, &imp.corrupt, &imp.duplicate,
                        &imp.reorder, &imp.reorderCorrelation})
    if (!validPercent(*p)) return invalidInput(fmt::format("percentage {} is outside 0..100", **p));
  if (imp.rate && *imp.rate > 0 && *imp.rate < 8) return invalidInput(fmt::format("rate {} bit/s is below 8 bit/s", *imp.rate));
  if (imp.burst && *imp.burst < 1514)
    return invalidInput(fmt::format("burst {} bytes is below one full-size frame (1514 bytes)", *imp.burst));
  if (imp.rateLimit && *imp.rateLimit == 0) return invalidInput("a shaper queue limit of 0 bytes drops everything");
  if (imp.limit && *imp.limit == 0) return invalidInput("a netem queue limit of 0 packets drops everything");
  return {};
}

Result<uint64_t> parseRate(std::string_view text) {
  std::string_view t = trim(text);
  double v;
  std::string unit;
  if (!splitNumber(t, v, unit)) return invalidInput(fmt::format("rate \"{}\": not a number with a unit like 50mbit", text));
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"", 1},         {"bit", 1},           {"kbit", 1e3},        {"mbit", 1e6},         {"gbit", 1e9},
      {"tbit", 1e12},  {"kibit", 1024.0},    {"mibit", 1048576.0}, {"gibit", 1073741824.0},
      {"tibit", 1099511627776.0}};
  for (auto [name, mult] : kUnits)
    if (unit == name) {
      long double bits = static_cast<long double>(v) * mult;
      if (bits < 1 || bits > 1.8e19L) return invalidInput(fmt::format("rate \"{}\" is out of range", text));
      return static_cast<uint64_t>(std::llroundl(bits));
    }
  if (unit.ends_with("bps"))
    return invalidInput(fmt::format("rate \"{}\": tc reads \"bps\" as bytes/s; write bits, like 50mbit", text));
  return invalidInput(fmt::format("rate \"{}\": unknown unit \"{}\" (bit, kbit, mbit, gbit, tbit)", text, unit));
}

Result<Nanos> parseDuration(std::string_view text) {
  std::string_view t = trim(text);
  double v;
  std::string unit;
  if (!splitNumber(t, v, unit)) return invalidInput(fmt::format("duration \"{}\": not a number with a unit like 20ms", text));
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"usec", 1e3}, {"ms", 1e6}, {"msec", 1e6}, {"s", 1e9}, {"sec", 1e9}};
  if (unit.empty()) return invalidInput(fmt::format("duration \"{}\" needs a unit (ns, us, ms, s)", text));
  for (auto [name, mult] : kUnits)
    if (unit == name) {
      long double ns = static_cast<long double>(v) * mult;
      if (ns > 3.6e12L) return invalidInput(fmt::format("duration \"{}\" is above one hour", text));
      return Nanos(std::llroundl(ns));
    }
  return invalidInput(fmt::format("duration \"{}\": unknown unit \"{}\" (ns, us, ms, s)", text, unit));
}

Result<double> parsePercent(std::string_view text) {
  std::string_view t = trim(text);
  double v;
  std::string unit;
  if (!splitNumber(t, v, unit) || !(unit.empty() || unit == "%"))
    return invalidInput(fmt::format("percentage \"{}\": not a number like 0.5 or 0.5%", text));
  if (v > 100) return invalidInput(fmt::format("percentage \"{}\" is above 100", text));
  return v;
}

Result<std::string> parseDistribution(std::string_view text) {
  std::string t = lower(trim(text));
  for (const char* name : {"normal", "pareto", "paretonormal", "uniform"})
    if (t == name) return t;
  return invalidInput(fmt::format("distribution \"{}\": not one of normal, pareto, paretonormal, uniform", text));
}

Result<std::vector<int16_t>> loadDistribution(std::string_view name, size_t maxEntries, const std::vector<std::string>& dirs) {
  std::vector<std::string> search = dirs;
  if (search.empty()) search = {"/usr/lib/tc", "/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/aarch64-linux-gnu/tc", "/usr/lib64/tc"};
  for (const auto& dir : search) {
    std::string path = fmt::format("{}/{}.dist", dir, name);
    auto text = fs::readFile(path);
    if (!text) continue;
    std::vector<int16_t> full;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
      std::istringstream words(line);
      long v;
      while (words >> v) {
        if (v < INT16_MIN || v > INT16_MAX) return invalidInput(fmt::format("{}: value {} is not a 16-bit number", path, v));
        full.push_back(static_cast<int16_t>(v));
      }
      if (!words.eof()) return invalidInput(fmt::format("{}: not a table of numbers", path));
    }
    if (full.empty()) return invalidInput(fmt::format("{}: an empty table", path));
    if (maxEntries == 0 || full.size() <= maxEntries) return full;
    // Average runs of neighbours: the table is sorted, so each run is one quantile's worth.
    size_t run = (full.size() + maxEntries - 1) / maxEntries;
    std::vector<int16_t> out;
    for (size_t i = 0; i < full.size(); i += run) {
      size_t end = std::min(full.size(), i + run);
      long sum = 0;
      for (size_t j = i; j < end; ++j) sum += full[j];
      out.push_back(static_cast<int16_t>(std::lround(static_cast<double>(sum) / static_cast<double>(end - i))));
    }
    return out;
  }
  return unsupported(fmt::format("no {}.dist delay distribution table (iproute2's tc tables, in {})", name, fmt::join(search, ", ")));
}

Result<uint32_t> parseSize(std::string_view text) {
  std::string_view t = trim(text);
  double v;
  std::string unit;
  if (!splitNumber(t, v, unit)) return invalidInput(fmt::format("size \"{}\": not a number of bytes like 64k", text));
  double mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1024;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1048576;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1073741824;
  else return invalidInput(fmt::format("size \"{}\": unknown unit \"{}\" (b, k, m, g)", text, unit));
  long double bytes = static_cast<long double>(v) * mult;
  if (bytes > std::numeric_limits<uint32_t>::max()) return invalidInput(fmt::format("size \"{}\" is above 4 GiB", text));
  return static_cast<uint32_t>(std::llroundl(bytes));
}

std::string formatRate(uint64_t bits) {
  static constexpr std::pair<uint64_t, std::string_view> kUnits[] = {
      {1000000000000ULL, "tbit"}, {1000000000ULL, "gbit"}, {1000000ULL, "mbit"}, {1000ULL, "kbit"}};
  for (auto [mult, name] : kUnits)
    if (bits >= mult) {
      if (bits % mult == 0) return fmt::format("{}{}", bits / mult, name);
      // Up to three decimals when they say it exactly, else bits.
      if ((bits * 1000) % mult == 0 && bits < (1ULL << 53)) return fmt::format("{:g}{}", static_cast<double>(bits) / mult, name);
      break;
    }
  return fmt::format("{}bit", bits);
}

std::string formatDuration(Nanos d) {
  int64_t ns = d.count();
  static constexpr std::pair<int64_t, std::string_view> kUnits[] = {{1000000000, "s"}, {1000000, "ms"}, {1000, "us"}};
  for (auto [mult, name] : kUnits)
    if (ns >= mult) {
      if (ns % mult == 0) return fmt::format("{}{}", ns / mult, name);
      if ((ns * 1000) % mult == 0) return fmt::format("{:g}{}", static_cast<double>(ns) / mult, name);
    }
  return fmt::format("{}ns", ns);
}

std::string_view configOption(std::string_view kind) {
  if (kind == "netem") return "CONFIG_NET_SCH_NETEM";
  if (kind == "tbf") return "CONFIG_NET_SCH_TBF";
  if (kind == "htb") return "CONFIG_NET_SCH_HTB";
  return "";
}

Error errorFor(const nl::Status& st, std::string_view kind, std::string what) {
  // The kernel says ENOENT "Specified qdisc kind is unknown." (older ones: no extack at all)
  // once the module could not be loaded either.
  bool unknownKind = st.errnum == ENOENT && (st.extack.empty() || st.extack.find("kind is unknown") != std::string::npos ||
                                             st.extack.find("Unknown qdisc") != std::string::npos);
  if (unknownKind && !configOption(kind).empty())
    return Error(Error::Kind::kUnsupported, st.errnum,
                 fmt::format("{}: this kernel has no {} qdisc ({} is not set)", what, kind, configOption(kind)));
  return nl::toError(st, std::move(what));
}

Result<void> apply(nl::Socket& s, const link::Ref& link, const Impairment& imp) {
  if (imp.empty()) return reset(s, link);
  NETCTL_TRYC(validate(imp), "impairing {}", link.str());
  int ifindex = NETCTL_TRYC(link::index(s, link), "impairing {}", link.str());
  Tree tree = NETCTL_TRYC(readTree(s, ifindex, link.str()), "impairing {}", link.str());

  std::string rootKind = imp.hasRate() ? "tbf" : "netem";
  std::string childKind = imp.hasRate() && imp.hasNetem() ? "netem" : "";
  // The same tree: change it in place (no packet lost). Another one: delete the root first;
  // a tbf's child cannot be removed on its own (tbf would fall back to a qdisc that drops).
  bool inPlace = tree.rootHandle == kRootHandle && tree.state.rootKind == rootKind &&
                 (childKind.empty() ? tree.state.childKind != "netem" : tree.state.childKind == childKind);
  std::vector<nl::Message> ms;
  std::vector<std::string> kinds;
  if (!inPlace && tree.rootHandle != 0) {
    ms.push_back(deleteRoot(ifindex, tree.rootHandle));
    kinds.push_back(tree.state.rootKind);
  }
  {
    nl::Message m(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
    putTcmsg(m, ifindex, kRootHandle, TC_H_ROOT);
    m.putString(TCA_KIND, rootKind);
    if (rootKind == "tbf") putTbfOptions(m, imp);
    else NETCTL_TRYC(putNetemOptions(m, imp), "impairing {}", link.str());
    ms.push_back(std::move(m));
    kinds.push_back(rootKind);
  }
  if (!childKind.empty()) {
    // Replacing tbf's default byte fifo (or an earlier netem) under class 1:1.
    nl::Message m(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
    putTcmsg(m, ifindex, kChildHandle, kRootClass);
    m.putString(TCA_KIND, childKind);
    NETCTL_TRYC(putNetemOptions(m, imp), "impairing {}", link.str());
    ms.push_back(std::move(m));
    kinds.push_back(childKind);
  }
  std::vector<nl::Message*> ptrs;
  for (auto& m : ms) ptrs.push_back(&m);
  auto statuses = s.transactAll(ptrs);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i].ok()) continue;
    bool deleting = ms[i].header()->nlmsg_type == RTM_DELQDISC;
    Error e = errorFor(statuses[i], deleting ? std::string_view{} : std::string_view{kinds[i]},
                       fmt::format("{} the {} qdisc", deleting ? "deleting" : "setting", kinds[i]));
    // All or nothing: a shaper without the netem asked with it is not what the user wants.
    if (!deleting) (void)reset(s, ifindex);
    return std::unexpected(std::move(e).context(fmt::format("impairing {}", link.str())));
  }
  return {};
}

Result<void> reset(nl::Socket& s, const link::Ref& link) {
  int ifindex = NETCTL_TRYC(link::index(s, link), "resetting the impairments of {}", link.str());
  Tree tree = NETCTL_TRYC(readTree(s, ifindex, link.str()), "resetting the impairments of {}", link.str());
  // Handle 0 is the device's built-in default (noqueue, pfifo_fast, mq): nothing to delete.
  if (tree.rootHandle == 0) return {};
  nl::Message m = deleteRoot(ifindex, tree.rootHandle);
  nl::Status st = s.transact(m);
  if (st.ok() || st.errnum == ENOENT) return {};
  return std::unexpected(nl::toError(st, fmt::format("deleting the {} qdisc", tree.state.rootKind))
                             .context(fmt::format("resetting the impairments of {}", link.str())));
}

Result<State> read(nl::Socket& s, const link::Ref& link) {
  int ifindex = NETCTL_TRYC(link::index(s, link), "reading the impairments of {}", link.str());
  Tree tree = NETCTL_TRYC(readTree(s, ifindex, link.str()), "reading the impairments of {}", link.str());
  return tree.state;
}

Result<void> probe(nl::Socket& s, const link::Ref& link, std::string_view kind) {
  int ifindex = NETCTL_TRYC(link::index(s, link), "probing qdisc {}", kind);
  nl::Message m(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
  putTcmsg(m, ifindex, kRootHandle, TC_H_ROOT);
  m.putString(TCA_KIND, kind);
  if (kind == "tbf") {
    Impairment imp;
    imp.rate = 1000000;
    putTbfOptions(m, imp);
  } else if (kind == "netem") {
    NETCTL_TRY(putNetemOptions(m, Impairment{}));
  } else if (kind == "htb") {
    tc_htb_glob g{};
    g.version = 3;  // TC_HTB_PROTOVER
    g.rate2quantum = 10;
    nlattr* opts = m.nestStart(TCA_OPTIONS);
    m.putBytes(TCA_HTB_INIT, &g, sizeof g);
    m.nestEnd(opts);
  }
  nl::Status st = s.transact(m);
  if (!st.ok()) return std::unexpected(errorFor(st, kind, fmt::format("probing qdisc {}", kind)));
  nl::Message del = deleteRoot(ifindex, kRootHandle);
  if (nl::Status d = s.transact(del); !d.ok())
    return std::unexpected(nl::toError(d, fmt::format("deleting the {} qdisc made to probe it", kind)));
  return {};
}

Result<void> probeScratch(std::string_view kind) {
  auto ns = NETCTL_TRYC(netns::createAnonymous(), "probing qdisc {}", kind);
  auto s = NETCTL_TRYC(nl::Socket::openIn(ns), "probing qdisc {}", kind);
  link::VethSpec v;
  v.link.name = "probe0";
  v.peer.name = "probe1";
  NETCTL_TRYC(link::create(s, v), "probing qdisc {}: creating a scratch veth pair", kind);
  return probe(s, "probe0", kind);
}

}  // namespace netctl::qdisc
