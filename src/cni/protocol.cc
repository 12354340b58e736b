#include "netctl/cni/protocol.h"

#include <charconv>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace netctl::cni {

std::optional<Version> Version::parse(std::string_view text) {
  Version v;
  int* parts[3] = {&v.major, &v.minor, &v.patch};
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    size_t end = i < 2 ? text.find('.', pos) : text.size();
    if (end == std::string_view::npos) return std::nullopt;
    auto part = text.substr(pos, end - pos);
    if (part.empty() || part.size() > 4) return std::nullopt;
    for (char c : part)
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    std::from_chars(part.data(), part.data() + part.size(), *parts[i]);
    pos = end + 1;
  }
  return v;
}

bool isSupportedVersion(std::string_view text) {
  for (auto v : kSupportedVersions)
    if (v == text) return true;
  return false;
}

std::string highestSupported(const std::vector<std::string>& candidates) {
  std::string best;
  for (const auto& c : candidates) {
    if (!isSupportedVersion(c)) continue;
    if (best.empty() || *Version::parse(c) > *Version::parse(best)) best = c;
  }
  return best;
}

bool versionAtLeast(std::string_view version, std::string_view atLeast) {
  auto a = Version::parse(version), b = Version::parse(atLeast);
  return a && b && *a >= *b;
}

Failure failureFrom(const Error& e, int c) {
  if (c < 0) {
    switch (e.kind()) {
      case Error::Kind::kInvalidInput: c = code::kInvalidConfig; break;
      case Error::Kind::kUnsupported: c = code::kKernelUnsupported; break;
      default: c = code::kInternal; break;
    }
  }
  return Failure{c, e.what(), {}};
}

std::string renderError(const Failure& f, std::string_view version) {
  nlohmann::json j;
  j["cniVersion"] = std::string(version.empty() ? kLatestVersion : version);
  j["code"] = f.code;
  j["msg"] = f.msg;
  if (!f.details.empty()) j["details"] = f.details;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view commandName(Command c) {
  switch (c) {
    case Command::kAdd: return "ADD";
    case Command::kDel: return "DEL";
    case Command::kCheck: return "CHECK";
    case Command::kStatus: return "STATUS";
    case Command::kVersion: return "VERSION";
    case Command::kGc: return "GC";
  }
  return "?";
}

bool validContainerId(std::string_view id) {
  if (id.empty() || !std::isalnum(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

bool validIfname(std::string_view n) {
  if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
  for (char c : n)
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0') return false;
  return true;
}

bool validMac(std::string_view mac) {
  if (mac.size() != 17) return false;
  for (size_t i = 0; i < mac.size(); ++i) {
    if (i % 3 == 2) {
      if (mac[i] != ':') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(mac[i]))) {
      return false;
    }
  }
  return true;
}

std::string lowerMac(std::string_view mac) {
  std::string s(mac);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Outcome<CniArgs> parseCniArgs(std::string_view text) {
  CniArgs a;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    auto item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;  // tolerate "a=b;" and ";;"
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return fail(code::kInvalidEnv, fmt::format("ARGS: invalid pair \"{}\"", item));
    a.pairs.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
  }
  // IgnoreUnknown first: it decides how the others are judged, wherever it appears.
  for (const auto& [k, v] : a.pairs) {
    if (k != "IgnoreUnknown") continue;
    std::string lv;
    for (char c : v) lv += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lv == "1" || lv == "true") a.ignoreUnknown = true;
    else if (lv == "0" || lv == "false") a.ignoreUnknown = false;
    else return fail(code::kInvalidEnv, fmt::format("ARGS: invalid IgnoreUnknown value \"{}\"", v));
  }
  std::vector<std::string> unknown;
  for (const auto& [k, v] : a.pairs) {
    if (k == "IgnoreUnknown") continue;
    if (k == "IP") {
      size_t p = 0;
      while (p <= v.size()) {
        size_t e = v.find(',', p);
        if (e == std::string::npos) e = v.size();
        auto one = std::string_view(v).substr(p, e - p);
        p = e + 1;
        if (one.empty()) continue;
        auto pre = IpPrefix::parse(one, /*allowBare=*/true);
        if (!pre) return fail(code::kInvalidEnv, fmt::format("ARGS: invalid IP \"{}\"", one));
        a.ips.push_back(pre->addr);
      }
    } else if (k == "MAC") {
      if (!validMac(v)) return fail(code::kInvalidEnv, fmt::format("ARGS: invalid MAC \"{}\"", v));
      a.mac = lowerMac(v);
    } else if (k == "K8S_POD_NAMESPACE") {
      a.podNamespace = v;
    } else if (k == "K8S_POD_NAME") {
      a.podName = v;
    } else if (k == "K8S_POD_INFRA_CONTAINER_ID") {
      a.podInfraContainerId = v;
    } else if (k == "K8S_POD_UID") {
      a.podUid = v;
    } else if (!a.ignoreUnknown) {
      unknown.push_back(k + "=" + v);
    }
  }
  if (!unknown.empty())
    return fail(code::kInvalidEnv, fmt::format("ARGS: unknown args [{}]", fmt::join(unknown, " ")),
                "set IgnoreUnknown=1 in CNI_ARGS to ignore them");
  return a;
}

Outcome<NetnsRef> parseNetns(std::string_view path) {
  NetnsRef r;
  r.path = std::string(path);
  if (path.empty()) return r;
  if (path[0] != '/')
    return fail(code::kInvalidEnv, fmt::format("CNI_NETNS \"{}\" is not an absolute path", path));
  for (std::string_view prefix : {"/run/netns/", "/var/run/netns/"}) {
    if (path.starts_with(prefix)) {
      auto name = path.substr(prefix.size());
      if (!name.empty() && name.find('/') == std::string_view::npos && name != "." && name != "..") {
        r.kind = NetnsRef::Kind::kNamed;
        r.name = std::string(name);
        return r;
      }
    }
  }
  if (path.starts_with("/proc/") && path.ends_with("/ns/net")) {
    auto mid = path.substr(6, path.size() - 6 - 7);
    int pid = 0;
    auto [ptr, ec] = std::from_chars(mid.data(), mid.data() + mid.size(), pid);
    if (ec == std::errc() && ptr == mid.data() + mid.size() && pid > 0) {
      r.kind = NetnsRef::Kind::kProcPid;
      r.pid = pid;
      return r;
    }
  }
  r.kind = NetnsRef::Kind::kPath;  // a bind mount somewhere else, /proc/self/ns/net, ...
  return r;
}

EnvMap processEnv() {
  EnvMap m;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (!kv.starts_with("CNI_")) continue;
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    m.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return m;
}

Outcome<Env> parseEnv(const EnvMap& vars) {
  auto get = [&](const char* k) -> std::string {
    auto it = vars.find(k);
    return it == vars.end() ? std::string() : it->second;
  };
  Env env;
  std::string cmd = get("CNI_COMMAND");
  if (cmd.empty()) return fail(code::kInvalidEnv, "required env variables [CNI_COMMAND] missing");
  if (cmd == "ADD") env.command = Command::kAdd;
  else if (cmd == "DEL") env.command = Command::kDel;
  else if (cmd == "CHECK") env.command = Command::kCheck;
  else if (cmd == "STATUS") env.command = Command::kStatus;
  else if (cmd == "VERSION") env.command = Command::kVersion;
  else if (cmd == "GC") env.command = Command::kGc;
  else return fail(code::kInvalidEnv, fmt::format("unknown CNI_COMMAND: {}", cmd));
  if (env.command == Command::kVersion) return env;  // needs nothing else

  bool perContainer = env.command == Command::kAdd || env.command == Command::kDel ||
                      env.command == Command::kCheck;
  bool needsNetns = env.command == Command::kAdd || env.command == Command::kCheck;
  std::vector<std::string> missing;
  if (perContainer && get("CNI_CONTAINERID").empty()) missing.push_back("CNI_CONTAINERID");
  if (needsNetns && get("CNI_NETNS").empty()) missing.push_back("CNI_NETNS");
  if (perContainer && get("CNI_IFNAME").empty()) missing.push_back("CNI_IFNAME");
  if (!missing.empty())
    return fail(code::kInvalidEnv,
                fmt::format("required env variables [{}] missing", fmt::join(missing, ",")));

  if (perContainer) {
    env.containerId = get("CNI_CONTAINERID");
    if (!validContainerId(env.containerId))
      return fail(code::kInvalidEnv, "invalid characters in CNI_CONTAINERID",
                  fmt::format("\"{}\" must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$", env.containerId));
    env.ifname = get("CNI_IFNAME");
    if (!validIfname(env.ifname))
      return fail(code::kInvalidEnv, fmt::format("invalid CNI_IFNAME \"{}\"", env.ifname),
                  "an interface name has 1 to 15 bytes, no '/', ':' or whitespace, and is not . or ..");
    auto ns = parseNetns(get("CNI_NETNS"));
    if (!ns) return std::unexpected(ns.error());
    env.netns = *ns;
    auto args = parseCniArgs(get("CNI_ARGS"));
    if (!args) return std::unexpected(args.error());
    env.args = std::move(*args);
  }
  std::string path = get("CNI_PATH");
  size_t pos = 0;
  while (!path.empty() && pos <= path.size()) {
    size_t end = path.find(':', pos);
    if (end == std::string::npos) end = path.size();
    if (end > pos) env.path.push_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  env.netnsOverride = !get("CNI_NETNS_OVERRIDE").empty();
  return env;
}

}  // namespace netctl::cni
