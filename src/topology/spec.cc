#include "netctl/topology/spec.h"

#include <cctype>
#include <algorithm>
#include <charconv>
#include <cmath>

namespace netctl::topology::spec {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "12.5ms" into 12.5 and "ms". The number must be non-negative and finite.
bool numberAndUnit(std::string_view text, double* value, std::string* unit) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return false;
  auto num = text.substr(0, i);
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), *value);
  if (ec != std::errc() || p != num.data() + num.size() || !std::isfinite(*value)) return false;
  *unit = lower(text.substr(i));
  while (!unit->empty() && unit->front() == ' ') unit->erase(0, 1);
  return true;
}

std::optional<uint32_t> parseUint(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// "80" or "8000-8010" -> [lo, hi], both in 1..65535 and lo <= hi.
bool portRange(std::string_view s, uint16_t* lo, uint16_t* hi) {
  auto dash = s.find('-');
  auto a = parseUint(s.substr(0, dash), 65535);
  auto b = dash == std::string_view::npos ? a : parseUint(s.substr(dash + 1), 65535);
  if (!a || !b || *a == 0 || *b == 0 || *b < *a) return false;
  *lo = static_cast<uint16_t>(*a);
  *hi = static_cast<uint16_t>(*b);
  return true;
}

}  // namespace

std::optional<PortMap> parsePort(std::string_view text, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<PortMap> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  PortMap pm;
  pm.spec = std::string(text);
  std::string_view rest = text;
  if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    auto proto = rest.substr(slash + 1);
    if (proto == "tcp") pm.proto = Proto::kTcp;
    else if (proto == "udp") pm.proto = Proto::kUdp;
    else if (proto == "sctp") pm.proto = Proto::kSctp;
    else return fail("unknown protocol \"" + std::string(proto) + "\" (tcp, udp or sctp)");
    rest = rest.substr(0, slash);
  }
  std::string_view hostIp;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return fail("bad bracketed host address");
    hostIp = rest.substr(1, close - 1);
    rest = rest.substr(close + 2);
  } else {
    auto colons = std::count(rest.begin(), rest.end(), ':');
    if (colons == 2) {
      auto c = rest.find(':');
      hostIp = rest.substr(0, c);
      rest = rest.substr(c + 1);
    } else if (colons != 1) {
      return fail("expected [host_ip:]host_port:container_port[/proto]");
    }
  }
  if (!hostIp.empty()) {
    auto ip = IpAddress::parse(hostIp);
    if (!ip) return fail("bad host address \"" + std::string(hostIp) + "\"");
    pm.hostIp = *ip;
  }
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) return fail("expected host_port:container_port");
  if (!portRange(rest.substr(0, colon), &pm.hostPort, &pm.hostPortEnd))
    return fail("bad host port \"" + std::string(rest.substr(0, colon)) + "\" (1-65535)");
  if (!portRange(rest.substr(colon + 1), &pm.containerPort, &pm.containerPortEnd))
    return fail("bad container port \"" + std::string(rest.substr(colon + 1)) + "\" (1-65535)");
  if (pm.containerPortEnd - pm.containerPort != 0 &&
      pm.containerPortEnd - pm.containerPort != pm.hostPortEnd - pm.hostPort)
    return fail("host and container port ranges differ in size");
  return pm;
}

std::optional<uint64_t> parseMemory(std::string_view text) {
  double v = 0;
  std::string unit;
  if (!numberAndUnit(text, &v, &unit)) return std::nullopt;
  double mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
  else return std::nullopt;
  double bytes = v * mult;
  if (bytes < 1 || bytes > 9.0e18) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::optional<int> parseMtu(std::string_view text) {
  auto v = parseUint(text, 65535);
  if (!v || *v < 68) return std::nullopt;
  return static_cast<int>(*v);
}

std::optional<uint64_t> parseDuration(std::string_view text) {
  double v = 0;
  std::string unit;
  if (!numberAndUnit(text, &v, &unit)) return std::nullopt;
  double us = 0;
  if (unit.empty() || unit == "ms") us = v * 1000;
  else if (unit == "us" || unit == "µs") us = v;
  else if (unit == "s") us = v * 1e6;
  else return std::nullopt;
  if (us > 3.6e9) return std::nullopt;  // an hour of delay is a typo
  return static_cast<uint64_t>(std::llround(us));
}

std::optional<uint64_t> parseRate(std::string_view text) {
  double v = 0;
  std::string unit;
  if (!numberAndUnit(text, &v, &unit)) return std::nullopt;
  double bps = 0;
  if (unit.empty() || unit == "kbit") bps = v * 1e3;
  else if (unit == "bit") bps = v;
  else if (unit == "mbit") bps = v * 1e6;
  else if (unit == "gbit") bps = v * 1e9;
  else if (unit == "bps") bps = v * 8;
  else if (unit == "kbps") bps = v * 8e3;
  else if (unit == "mbps") bps = v * 8e6;
  else if (unit == "gbps") bps = v * 8e9;
  else return std::nullopt;
  if (bps < 8 || bps > 1e13) return std::nullopt;
  return static_cast<uint64_t>(bps);
}

std::optional<double> parsePercent(std::string_view text) {
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  double v = 0;
  std::string unit;
  if (!numberAndUnit(text, &v, &unit) || !unit.empty() || v > 100) return std::nullopt;
  return v;
}

bool validIfName(std::string_view name, std::string* why) {
  auto fail = [&](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  if (name.empty()) return fail("interface name is empty");
  if (name.size() > defaults::kMaxIfName) return fail("interface name is longer than 15 characters");
  if (name == "." || name == "..") return fail("interface name cannot be \".\" or \"..\"");
  for (char c : name) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) ||
        !std::isprint(static_cast<unsigned char>(c)))
      return fail("interface name contains '/', ':', a space or a control character");
  }
  return true;
}

bool validName(std::string_view name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  return true;
}

bool validSysctl(std::string_view key) {
  if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != key.npos)
    return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-' && c != '/')
      return false;
  return key.find('.') != key.npos;
}

std::optional<std::vector<std::string>> splitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  bool inWord = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == quote) quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < text.size()) cur += text[++i];
      else cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      inWord = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      cur += text[++i];
      inWord = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (inWord) words.push_back(std::move(cur));
      cur.clear();
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return std::nullopt;
  if (inWord) words.push_back(std::move(cur));
  return words;
}

}  // namespace netctl::topology::spec
