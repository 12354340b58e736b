#include "netctl/cni/plugin.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace netctl::cni {

using nlohmann::json;

std::string versionReply(std::string_view stdinText) {
  std::string version(kLatestVersion);
  json j = json::parse(stdinText.begin(), stdinText.end(), nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    auto v = j.find("cniVersion");
    if (v != j.end() && v->is_string() && Version::parse(v->get<std::string>())) version = v->get<std::string>();
  }
  json out;
  out["cniVersion"] = version;
  out["supportedVersions"] = json::array();
  for (auto s : kSupportedVersions) out["supportedVersions"].push_back(std::string(s));
  return out.dump();
}

namespace {

// The request's version for error replies, best effort (errors before parsing succeed too).
std::string sniffVersion(std::string_view stdinText) {
  json j = json::parse(stdinText.begin(), stdinText.end(), nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    auto v = j.find("cniVersion");
    // Echo any well-formed version, supported or not: the caller reads errors in its own.
    if (v != j.end() && v->is_string() && Version::parse(v->get<std::string>())) return v->get<std::string>();
  }
  return std::string(kLatestVersion);
}

Outcome<void> needVersion(const NetConf& c, Command cmd, std::string_view atLeast) {
  if (versionAtLeast(c.cniVersion, atLeast)) return {};
  return fail(code::kIncompatibleVersion, "incompatible CNI versions",
              fmt::format("{} needs cniVersion {} or later, config is \"{}\"", commandName(cmd), atLeast,
                          c.cniVersion));
}

// ADD chained after another plugin: what came before stays in the result, in front of what
// netctl made (the spec: a plugin passes prevResult on, adding its own). netctl's ips point
// into its own interfaces, so their indices move by the number of interfaces before them.
// An entry netctl made again (the same interface name in the same sandbox) is not repeated.
NetResult mergeAfter(const NetResult& prev, NetResult mine) {
  NetResult out = prev;
  out.cniVersion = mine.cniVersion;
  std::vector<int> where;  // mine's interface index -> index in out
  for (auto& i : mine.interfaces) {
    auto same = std::find_if(out.interfaces.begin(), out.interfaces.end(),
                             [&](const Interface& o) { return o.name == i.name && o.sandbox == i.sandbox; });
    if (same != out.interfaces.end()) {
      *same = i;
      where.push_back(int(same - out.interfaces.begin()));
    } else {
      where.push_back(int(out.interfaces.size()));
      out.interfaces.push_back(std::move(i));
    }
  }
  for (auto& ipc : mine.ips) {
    if (ipc.interface && *ipc.interface >= 0 && size_t(*ipc.interface) < where.size())
      ipc.interface = where[size_t(*ipc.interface)];
    out.ips.push_back(std::move(ipc));
  }
  for (auto& r : mine.routes) out.routes.push_back(std::move(r));
  if (!mine.dns.empty()) out.dns = std::move(mine.dns);
  return out;
}

ipam::Request ipamRequest(const Request& req) {
  return ipam::Request{req.ipamDataDir, req.conf.name, req.env.containerId, req.env.ifname, req.requestedIps};
}

Outcome<std::string> run(const EnvMap& vars, std::string_view stdinText, Backend& backend, const Options& opts) {
  auto env = parseEnv(vars);
  if (!env) return std::unexpected(env.error());
  if (env->command == Command::kVersion) return versionReply(stdinText);

  ParseOptions po;
  po.extraTypeNames = opts.extraTypeNames;
  auto conf = parseNetConf(stdinText, po);
  if (!conf) return std::unexpected(conf.error());

  Request req;
  req.command = env->command;
  req.version = conf->cniVersion;
  req.env = std::move(*env);
  req.conf = std::move(*conf);
  const NetConf& c = req.conf;
  const CniArgs& args = req.env.args;
  req.mac = !c.runtimeMac.empty() ? c.runtimeMac : !c.argsMac.empty() ? c.argsMac : args.mac;
  req.requestedIps = !c.argsIps.empty() ? c.argsIps : !c.runtimeIps.empty() ? c.runtimeIps : args.ips;
  if (c.ipam) req.ipamDataDir = ipam::dataDirFor(*c.ipam, opts.dataDir);
  if (req.command == Command::kAdd && !req.requestedIps.empty() && !c.ipam)
    return fail(code::kInvalidConfig, "specific IPs were requested but the network has no \"ipam\"");

  if (c.ipam && c.ipam->type == "host-local" &&
      (req.command == Command::kDel || req.command == Command::kCheck)) {
    auto held = ipam::list(req.ipamDataDir, c.name);
    if (held) {
      for (const auto& r : *held)
        if (r.containerId == req.env.containerId && (r.ifname == req.env.ifname || r.ifname.empty()))
          req.heldIps.push_back(r.address);
    }
  }

  bool needsNetns = req.command == Command::kAdd || req.command == Command::kCheck;
  if (needsNetns && opts.requireNetnsExists) {
    struct stat st{};
    if (::stat(req.env.netns.path.c_str(), &st) != 0)
      return fail(code::kUnknownContainer, fmt::format("netns \"{}\" does not exist", req.env.netns.path));
    // As the newer reference skeleton: never build a "container" interface in our own netns
    // by mistake (CNI_NETNS_OVERRIDE allows it on purpose).
    struct stat self{};
    if (!req.env.netnsOverride && ::stat("/proc/self/ns/net", &self) == 0 && self.st_dev == st.st_dev &&
        self.st_ino == st.st_ino)
      return fail(code::kInvalidNetns, "plugin's netns and netns from CNI_NETNS should not be the same",
                  "set CNI_NETNS_OVERRIDE=1 to allow it");
  }

  switch (req.command) {
    case Command::kAdd: {
      NetResult addresses;
      if (c.ipam) {
        auto a = ipam::allocate(*c.ipam, ipamRequest(req));
        if (!a) return std::unexpected(a.error());
        addresses = std::move(*a);
      }
      auto result = backend.add(req, addresses);
      if (result && c.prevResult) result = mergeAfter(*c.prevResult, std::move(*result));
      if (result) {
        if (auto valid = validateResult(*result); !valid) result = std::unexpected(valid.error());
      }
      if (!result) {
        if (c.ipam) (void)ipam::release(*c.ipam, ipamRequest(req));
        return std::unexpected(result.error());
      }
      return renderResult(*result, req.version);
    }
    case Command::kDel: {
      // Release from our own records even when the backend fails: the runtime may not retry.
      auto done = backend.del(req);
      if (c.ipam) {
        auto freed = ipam::release(*c.ipam, ipamRequest(req));
        if (done && !freed) return std::unexpected(freed.error());
      }
      if (!done) return std::unexpected(done.error());
      return std::string();
    }
    case Command::kCheck: {
      if (auto v = needVersion(c, req.command, "0.4.0"); !v) return std::unexpected(v.error());
      if (!c.prevResult) return fail(code::kInvalidConfig, "CHECK needs \"prevResult\"");
      if (c.ipam) {
        auto held = ipam::check(*c.ipam, ipamRequest(req));
        if (!held) return std::unexpected(held.error());
      }
      auto ok = backend.check(req, *c.prevResult);
      if (!ok) return std::unexpected(ok.error());
      return std::string();
    }
    case Command::kStatus: {
      if (auto v = needVersion(c, req.command, "1.1.0"); !v) return std::unexpected(v.error());
      auto ok = backend.status(req);
      if (!ok) return std::unexpected(ok.error());
      return std::string();
    }
    case Command::kGc: {
      if (auto v = needVersion(c, req.command, "1.1.0"); !v) return std::unexpected(v.error());
      if (!c.validAttachments)
        return fail(code::kInvalidConfig, "GC needs \"cni.dev/valid-attachments\"");
      // Keep going on errors and report them all, as the spec asks.
      std::vector<std::string> errors;
      if (c.ipam) {
        auto rep = ipam::gc(*c.ipam, req.ipamDataDir, c.name, *c.validAttachments);
        errors.insert(errors.end(), rep.errors.begin(), rep.errors.end());
      }
      int firstCode = 0;
      auto ok = backend.gc(req, *c.validAttachments);
      if (!ok) {
        firstCode = ok.error().code;
        errors.push_back(ok.error().msg + (ok.error().details.empty() ? "" : ": " + ok.error().details));
      }
      if (!errors.empty())
        return fail(firstCode ? firstCode : code::kIoFailure, "garbage collection failed",
                    fmt::format("{}", fmt::join(errors, "; ")));
      return std::string();
    }
    case Command::kVersion: break;
  }
  return std::string();
}

}  // namespace

int runPlugin(const EnvMap& env, std::string_view stdinText, std::ostream& out, Backend& backend,
              const Options& opts) {
  auto cmd = env.find("CNI_COMMAND");
  if (cmd == env.end() || cmd->second.empty()) {
    out << opts.about << "\nCNI protocol versions supported: " << fmt::format("{}", fmt::join(kSupportedVersions, ", "))
        << "\n";
    return 0;
  }
  auto r = run(env, stdinText, backend, opts);
  if (!r) {
    out << renderError(r.error(), sniffVersion(stdinText)) << "\n";
    out.flush();
    return 1;
  }
  if (!r->empty()) out << *r << "\n";
  out.flush();
  return 0;
}

int runFromProcess(Backend& backend, const Options& opts) {
  EnvMap env = processEnv();
  std::string in;
  auto cmd = env.find("CNI_COMMAND");
  bool version = cmd != env.end() && cmd->second == "VERSION";
  bool empty = cmd == env.end() || cmd->second.empty();
  if (!empty && !(version && ::isatty(0))) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Failure f{code::kIoFailure, fmt::format("reading stdin: {}", std::strerror(errno)), ""};
        std::cout << renderError(f, kLatestVersion) << std::endl;
        return 1;
      }
      if (n == 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
  }
  return runPlugin(env, in, std::cout, backend, opts);
}

}  // namespace netctl::cni
