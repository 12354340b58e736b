#include "reader.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "netctl/topology/spec.h"

namespace netctl::topology::detail {
namespace {

std::string kindName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "empty";
    default: return "undefined";
  }
}

bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

// ---- Expander ----

std::optional<std::string> Expander::lookup(const std::string& name) {
  if (auto it = assigned_.find(name); it != assigned_.end()) return it->second;
  return getenv_ ? getenv_(name) : std::nullopt;
}

std::optional<std::string> Expander::expand(std::string_view text, std::string* why,
                                            std::vector<std::string>* unset) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {  // "$$" is a literal "$"
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {  // a bare $VAR is left alone: it is usually meant for a shell
      out += c;
      continue;
    }
    auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      *why = "unterminated ${...}";
      return std::nullopt;
    }
    std::string_view body = text.substr(i + 2, close - i - 2);
    size_t n = 0;
    while (n < body.size() && isNameChar(body[n])) ++n;
    std::string name(body.substr(0, n));
    std::string_view op = body.substr(n);
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) {
      *why = fmt::format("bad variable name in ${{{}}}", body);
      return std::nullopt;
    }
    auto value = lookup(name);
    if (op.empty()) {
      if (!value && unset) unset->push_back(name);
      out += value.value_or("");
    } else if (op.starts_with(":-") || op.starts_with(":=")) {
      std::string def(op.substr(2));
      if (!value || value->empty()) {
        if (op[1] == '=') assigned_[name] = def;
        out += def;
      } else {
        out += *value;
      }
    } else {
      *why = fmt::format("unsupported expansion ${{{}}} (use ${{VAR}}, ${{VAR:-x}} or ${{VAR:=x}})",
                         body);
      return std::nullopt;
    }
    i = close;
  }
  return out;
}

// ---- Reader ----

Loc Reader::loc(const YAML::Node& n) {
  if (!n.IsDefined()) return {};
  auto m = n.Mark();
  if (m.line < 0) return {};
  return Loc{m.line + 1, m.column + 1};
}

void Reader::fail(Loc loc, const std::string& path, std::string message) const {
  throw DecodeError{Diagnostic{file_, loc, path, std::move(message)}};
}

void Reader::warn(Loc loc, const std::string& path, std::string message) {
  if (warnings_) warnings_->push_back(Diagnostic{file_, loc, path, std::move(message)});
}

void Reader::requireMap(const YAML::Node& n, const std::string& path) const {
  if (!n.IsMap() && !n.IsNull()) fail(loc(n), path, "expected a mapping, got " + kindName(n));
}

void Reader::requireList(const YAML::Node& n, const std::string& path) const {
  if (!n.IsSequence() && !n.IsNull()) fail(loc(n), path, "expected a list, got " + kindName(n));
}

std::map<std::string, Loc, std::less<>> Reader::keys(
    const YAML::Node& n, const std::string& path, std::initializer_list<std::string_view> known,
    std::initializer_list<std::string_view> ignored) {
  requireMap(n, path);
  std::map<std::string, Loc, std::less<>> seen;
  if (n.IsNull()) return seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node k = it->first;
    Loc kl = loc(k);
    if (!k.IsScalar()) fail(kl, path, "a key must be a plain string");
    std::string key = k.Scalar();
    std::string keyPath = path.empty() ? key : path + "." + key;
    if (seen.contains(key)) fail(kl, keyPath, "duplicate key");
    if (std::find(known.begin(), known.end(), key) != known.end()) {
      seen.emplace(key, kl);
    } else if (std::find(ignored.begin(), ignored.end(), key) != ignored.end()) {
      warn(kl, keyPath, "ignored: has no effect in netctl");
    } else {
      fail(kl, path, fmt::format("unknown key \"{}\"", key));
    }
  }
  return seen;
}

std::string Reader::str(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) fail(loc(n), path, "expected a string, got " + kindName(n));
  const std::string& raw = n.Scalar();
  if (!expander_) return raw;
  std::string why;
  std::vector<std::string> unset;
  auto out = expander_->expand(raw, &why, &unset);
  if (!out) fail(loc(n), path, why);
  for (const auto& v : unset)
    warn(loc(n), path, fmt::format("variable {} is not set; expanded to an empty string", v));
  return *out;
}

bool Reader::boolean(const YAML::Node& n, const std::string& path) {
  std::string s = str(n, path);
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "true" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "no" || l == "off") return false;
  fail(loc(n), path, fmt::format("expected true or false, got \"{}\"", s));
}

int64_t Reader::integer(const YAML::Node& n, const std::string& path, int64_t min, int64_t max) {
  std::string s = str(n, path);
  int64_t v = 0;
  bool ok = !s.empty() && s.size() <= 18;
  for (size_t i = 0; ok && i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') ok = false;
    else v = v * 10 + (s[i] - '0');
  }
  if (!ok || v < min || v > max)
    fail(loc(n), path, fmt::format("expected an integer in {}..{}, got \"{}\"", min, max, s));
  return v;
}

double Reader::number(const YAML::Node& n, const std::string& path, double min, double max) {
  std::string s = str(n, path);
  char* end = nullptr;
  double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < min || v > max)
    fail(loc(n), path, fmt::format("expected a number in {}..{}, got \"{}\"", min, max, s));
  return v;
}

std::vector<std::string> Reader::strList(const YAML::Node& n, const std::string& path) {
  requireList(n, path);
  std::vector<std::string> out;
  for (size_t i = 0; i < n.size(); ++i) out.push_back(str(n[i], fmt::format("{}[{}]", path, i)));
  return out;
}

std::map<std::string, std::pair<std::string, Loc>> Reader::strMap(const YAML::Node& n,
                                                                  const std::string& path) {
  requireMap(n, path);
  std::map<std::string, std::pair<std::string, Loc>> out;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar()) fail(loc(it->first), path, "a key must be a plain string");
    std::string key = it->first.Scalar();
    std::string keyPath = path + "." + key;
    if (out.contains(key)) fail(loc(it->first), keyPath, "duplicate key");
    std::string value = it->second.IsNull() ? std::string() : str(it->second, keyPath);
    out.emplace(key, std::pair{value, loc(it->second.IsNull() ? it->first : it->second)});
  }
  return out;
}

std::vector<std::string> Reader::command(const YAML::Node& n, const std::string& path) {
  if (n.IsSequence()) return strList(n, path);
  std::string s = str(n, path);
  auto words = spec::splitWords(s);
  if (!words) fail(loc(n), path, "unterminated quote in command");
  return *words;
}

IpAddress Reader::address(const YAML::Node& n, const std::string& path, int family) {
  std::string s = str(n, path);
  auto a = IpAddress::parse(s);
  if (!a) fail(loc(n), path, fmt::format("bad IP address \"{}\"", s));
  if (family && a->family != family)
    fail(loc(n), path, fmt::format("expected an IPv{} address, got \"{}\"", family, s));
  return *a;
}

IpPrefix Reader::prefix(const YAML::Node& n, const std::string& path, bool subnet, int family) {
  std::string s = str(n, path);
  auto p = IpPrefix::parse(s, true);
  if (!p) fail(loc(n), path, fmt::format("bad CIDR \"{}\" (expected address/length)", s));
  if (family && p->addr.family != family)
    fail(loc(n), path, fmt::format("expected an IPv{} prefix, got \"{}\"", family, s));
  if (subnet && !(p->network().addr == p->addr))
    fail(loc(n), path,
         fmt::format("\"{}\" has host bits set; the subnet is {}", s, p->network().str()));
  return *p;
}

Mac Reader::mac(const YAML::Node& n, const std::string& path) {
  std::string s = str(n, path);
  auto m = Mac::parse(s);
  if (!m) fail(loc(n), path, fmt::format("bad MAC address \"{}\"", s));
  if (m->bytes[0] & 1) fail(loc(n), path, fmt::format("MAC address {} is multicast", s));
  return *m;
}

int Reader::mtu(const YAML::Node& n, const std::string& path) {
  std::string s = str(n, path);
  auto v = spec::parseMtu(s);
  if (!v) fail(loc(n), path, fmt::format("bad MTU \"{}\" (68..65535)", s));
  return *v;
}

std::string Reader::ifName(const YAML::Node& n, const std::string& path) {
  std::string s = str(n, path);
  std::string why;
  if (!spec::validIfName(s, &why)) fail(loc(n), path, fmt::format("\"{}\": {}", s, why));
  return s;
}

std::string Reader::name(const YAML::Node& n, const std::string& path, size_t maxLen,
                         const char* what) {
  std::string s = str(n, path);
  if (!spec::validName(s))
    fail(loc(n), path,
         fmt::format("bad {} name \"{}\" (letters, digits, '_', '-', '.'; starting with a letter "
                     "or digit)",
                     what, s));
  if (s.size() > maxLen)
    fail(loc(n), path,
         fmt::format("{} name \"{}\" is too long ({} characters, at most {})", what, s, s.size(),
                     maxLen));
  return s;
}

// ---- node specs ----

void inherit(NodeSpec& s, const NodeSpec& g) {
  auto take = [](auto& mine, const auto& theirs) {
    if (!mine.v && theirs.v) mine = theirs;
  };
  take(s.kind, g.kind);
  take(s.group, g.group);
  take(s.image, g.image);
  take(s.user, g.user);
  take(s.hostname, g.hostname);
  take(s.host, g.host);
  take(s.networkMode, g.networkMode);
  take(s.cmd, g.cmd);
  take(s.exec, g.exec);
  take(s.ports, g.ports);
  take(s.memory, g.memory);
  take(s.pids, g.pids);
  take(s.cpus, g.cpus);
  take(s.networks, g.networks);
  take(s.nat, g.nat);
  take(s.mgmtIpv4, g.mgmtIpv4);
  take(s.mgmtIpv6, g.mgmtIpv6);
  // binds: the general level's first, then ours, without repeating an identical entry.
  std::vector<std::pair<std::string, Loc>> binds = g.binds;
  for (auto& b : s.binds)
    if (std::none_of(binds.begin(), binds.end(), [&](auto& x) { return x.first == b.first; }))
      binds.push_back(b);
  s.binds = std::move(binds);
  for (const auto& [mine, theirs] : {std::pair{&s.env, &g.env}, std::pair{&s.sysctls, &g.sysctls},
                                     std::pair{&s.labels, &g.labels}})
    for (const auto& [k, v] : *theirs) mine->try_emplace(k, v);
}

Node toNode(const std::string& name, const std::string& path, Loc self, NodeSpec s) {
  Node n;
  n.name = name;
  n.locs.self = self;
  n.locs.path = path;
  auto put = [&](const char* field, Loc l) {
    if (l.known()) n.locs.at[field] = l;
  };
  if (s.group) n.group = *s.group.v, put("group", s.group.loc);
  if (s.image) n.image = *s.image.v, put("image", s.image.loc);
  if (s.user) n.user = *s.user.v, put("user", s.user.loc);
  if (s.hostname) n.hostname = *s.hostname.v, put("hostname", s.hostname.loc);
  if (s.host) n.host = *s.host.v, put("host", s.host.loc);
  if (s.cmd) n.cmd = *s.cmd.v, put("cmd", s.cmd.loc);
  if (s.exec) n.exec = *s.exec.v, put("exec", s.exec.loc);
  if (s.ports) n.ports = *s.ports.v, put("ports", s.ports.loc);
  if (s.memory) n.resources.memoryBytes = *s.memory.v, put("resources.memory", s.memory.loc);
  if (s.pids) n.resources.pids = *s.pids.v, put("resources.pids", s.pids.loc);
  if (s.cpus) n.resources.cpus = *s.cpus.v, put("resources.cpus", s.cpus.loc);
  if (s.networks) n.networks = *s.networks.v, put("networks", s.networks.loc);
  if (s.nat) n.nat = *s.nat.v, put("nat", s.nat.loc);
  for (size_t i = 0; i < s.binds.size(); ++i) {
    n.binds.push_back(s.binds[i].first);
    put(fmt::format("binds[{}]", i).c_str(), s.binds[i].second);
  }
  for (auto& [k, v] : s.env) n.env[k] = v.first, put(("env." + k).c_str(), v.second);
  for (auto& [k, v] : s.sysctls) n.sysctls[k] = v.first, put(("sysctls." + k).c_str(), v.second);
  for (auto& [k, v] : s.labels) n.labels[k] = v.first, put(("labels." + k).c_str(), v.second);
  return n;
}

// ---- shared value decoders ----

std::vector<PortMap> decodePorts(Reader& r, const YAML::Node& n, const std::string& path) {
  r.requireList(n, path);
  std::vector<PortMap> out;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string p = fmt::format("{}[{}]", path, i);
    std::string s = r.str(n[i], p);
    std::string why;
    auto pm = spec::parsePort(s, &why);
    if (!pm) r.fail(Reader::loc(n[i]), p, fmt::format("bad port spec \"{}\": {}", s, why));
    pm->loc = Reader::loc(n[i]);
    out.push_back(*pm);
  }
  return out;
}

uint64_t decodeMemory(Reader& r, const YAML::Node& n, const std::string& path) {
  std::string s = r.str(n, path);
  auto v = spec::parseMemory(s);
  if (!v)
    r.fail(Reader::loc(n), path,
           fmt::format("bad memory size \"{}\" (a number with b, k, m, g or t: \"128M\")", s));
  if (*v < 4 * 1024 * 1024)
    r.fail(Reader::loc(n), path, fmt::format("memory size \"{}\" is below 4M", s));
  return *v;
}

Impair decodeImpair(Reader& r, const YAML::Node& n, const std::string& path) {
  auto keys = r.keys(n, path,
                     {"delay", "jitter", "loss", "corrupt", "duplicate", "reorder", "correlation",
                      "rate", "limit"});
  Impair im;
  auto dur = [&](const char* k, std::optional<uint64_t>& out) {
    if (!keys.contains(k)) return;
    std::string p = path + "." + k, s = r.str(n[k], p);
    out = spec::parseDuration(s);
    if (!out) r.fail(Reader::loc(n[k]), p, fmt::format("bad duration \"{}\" (\"10ms\")", s));
  };
  auto pct = [&](const char* k, std::optional<double>& out) {
    if (!keys.contains(k)) return;
    std::string p = path + "." + k, s = r.str(n[k], p);
    out = spec::parsePercent(s);
    if (!out) r.fail(Reader::loc(n[k]), p, fmt::format("bad percentage \"{}\" (0..100)", s));
  };
  dur("delay", im.delayUs);
  dur("jitter", im.jitterUs);
  pct("loss", im.lossPct);
  pct("corrupt", im.corruptPct);
  pct("duplicate", im.duplicatePct);
  pct("reorder", im.reorderPct);
  pct("correlation", im.correlationPct);
  if (keys.contains("rate")) {
    std::string s = r.str(n["rate"], path + ".rate");
    im.rateBitsPerSec = spec::parseRate(s);
    if (!im.rateBitsPerSec)
      r.fail(Reader::loc(n["rate"]), path + ".rate",
             fmt::format("bad rate \"{}\" (\"100mbit\", or a number in kbit/s)", s));
  }
  if (keys.contains("limit"))
    im.limitPackets = static_cast<uint32_t>(r.integer(n["limit"], path + ".limit", 1, 1 << 30));
  if (im.jitterUs && !im.delayUs)
    r.fail(keys["jitter"], path + ".jitter", "jitter needs a delay");
  // netem reorders by sending some packets at once while the rest wait out the delay.
  if (im.reorderPct && !im.delayUs)
    r.fail(keys["reorder"], path + ".reorder", "reorder needs a delay");
  return im;
}

}  // namespace netctl::topology::detail
