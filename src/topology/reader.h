// Internal to the topology parser: strict, location-keeping access to yaml-cpp nodes, shared by
// the native and containerlab dialects. Decoding stops at the first error by throwing
// DecodeError, which never leaves this module: load.cc catches it (and yaml-cpp's own
// exceptions) and turns it into a Result. Throwing keeps each decoder a straight list of keys.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netctl/topology/model.h"

namespace netctl::topology::detail {

struct DecodeError {
  Diagnostic diag;
};

// containerlab-style `${VAR}`, `${VAR:-default}`, `${VAR:=default}` and `$$` expansion.
class Expander {
 public:
  using Getenv = std::function<std::optional<std::string>(const std::string&)>;
  explicit Expander(Getenv getenv) : getenv_(std::move(getenv)) {}
  // Returns the expanded text, or nullopt with *why set on a malformed reference.
  // Names of unset variables used without a default go to *unset.
  std::optional<std::string> expand(std::string_view text, std::string* why,
                                    std::vector<std::string>* unset);

 private:
  std::optional<std::string> lookup(const std::string& name);
  Getenv getenv_;
  std::map<std::string, std::string> assigned_;  // ${VAR:=x} assigns for the rest of the file
};

class Reader {
 public:
  Reader(std::string file, std::vector<Diagnostic>* warnings, Expander* expander)
      : file_(std::move(file)), warnings_(warnings), expander_(expander) {}

  const std::string& file() const { return file_; }
  static Loc loc(const YAML::Node& n);
  [[noreturn]] void fail(Loc loc, const std::string& path, std::string message) const;
  void warn(Loc loc, const std::string& path, std::string message);

  // n must be a map (or null, read as empty). A key not in `known` is an error, a key in
  // `ignored` a warning ("has no effect here"). Returns the keys' locations.
  std::map<std::string, Loc, std::less<>> keys(const YAML::Node& n, const std::string& path,
                                               std::initializer_list<std::string_view> known,
                                               std::initializer_list<std::string_view> ignored = {});
  void requireMap(const YAML::Node& n, const std::string& path) const;
  void requireList(const YAML::Node& n, const std::string& path) const;

  std::string str(const YAML::Node& n, const std::string& path);
  bool boolean(const YAML::Node& n, const std::string& path);
  int64_t integer(const YAML::Node& n, const std::string& path, int64_t min, int64_t max);
  double number(const YAML::Node& n, const std::string& path, double min, double max);
  std::vector<std::string> strList(const YAML::Node& n, const std::string& path);
  // A map of scalars; values are kept as text (sysctl values, env).
  std::map<std::string, std::pair<std::string, Loc>> strMap(const YAML::Node& n,
                                                           const std::string& path);
  // A list of words, or a string split into words.
  std::vector<std::string> command(const YAML::Node& n, const std::string& path);
  // Typed scalars with their syntax checked.
  IpAddress address(const YAML::Node& n, const std::string& path, int family = 0);
  IpPrefix prefix(const YAML::Node& n, const std::string& path, bool subnet, int family = 0);
  Mac mac(const YAML::Node& n, const std::string& path);
  int mtu(const YAML::Node& n, const std::string& path);
  std::string ifName(const YAML::Node& n, const std::string& path);
  std::string name(const YAML::Node& n, const std::string& path, size_t maxLen, const char* what);

 private:
  std::string file_;
  std::vector<Diagnostic>* warnings_;
  Expander* expander_;  // null: no expansion (native dialect)
};

// One level of node settings (defaults, kind, group or node) before inheritance. Each field
// keeps where it was set, so an inherited value still points at the line that set it.
template <typename T>
struct Field {
  std::optional<T> v;
  Loc loc;
  explicit operator bool() const { return v.has_value(); }
};
struct NodeSpec {
  Field<std::string> kind, group, image, user, hostname, host, networkMode;
  Field<std::vector<std::string>> cmd, exec;
  std::vector<std::pair<std::string, Loc>> binds;  // merged across levels
  std::map<std::string, std::pair<std::string, Loc>> env, sysctls, labels;  // merged by key
  Field<std::vector<PortMap>> ports;
  Field<uint64_t> memory, pids;
  Field<double> cpus;
  Field<std::vector<Attachment>> networks;
  Field<std::vector<NatRule>> nat;
  Field<IpAddress> mgmtIpv4, mgmtIpv6;
};
// Fills the unset fields of `specific` from `general` (scalars: most specific wins; binds:
// general first; maps: key by key).
void inherit(NodeSpec& specific, const NodeSpec& general);
// The typed node from a fully inherited spec.
Node toNode(const std::string& name, const std::string& path, Loc self, NodeSpec spec);

// Shared decoders.
std::vector<PortMap> decodePorts(Reader& r, const YAML::Node& n, const std::string& path);
uint64_t decodeMemory(Reader& r, const YAML::Node& n, const std::string& path);
Impair decodeImpair(Reader& r, const YAML::Node& n, const std::string& path);
// A link in brief or extended form. `bridges` are the names usable as bridge endpoints,
// `hostNodes` names that mean the host (containerlab `kind: host` nodes, and "host").
Link decodeLink(Reader& r, const YAML::Node& n, const std::string& path, Dialect dialect,
                const std::function<bool(std::string_view)>& isBridge,
                const std::function<bool(std::string_view)>& isHostNode);

// The dialect decoders: fill `lab` from the document root.
void decodeNative(Reader& r, const YAML::Node& root, Lab& lab);
void decodeClab(Reader& r, const YAML::Node& root, Lab& lab);

}  // namespace netctl::topology::detail
