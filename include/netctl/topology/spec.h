// Parsers for the small value syntaxes of a lab file, shared by both dialects and the CLI.
// Each returns nullopt (or an error string) on bad input; the caller adds the location.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netctl/topology/model.h"

namespace netctl::topology::spec {

// "[host_ip:]host_port[-end]:container_port[-end][/tcp|udp|sctp]"; IPv6 host_ip in brackets.
// On error returns the reason.
std::optional<PortMap> parsePort(std::string_view text, std::string* why = nullptr);
// "128M", "1g", "512MiB", "1073741824" (bytes; b/k/kb/kib/m/mb/mib/g/gb/gib/t..., any case,
// 1024-based as docker does).
std::optional<uint64_t> parseMemory(std::string_view text);
// 68..65535.
std::optional<int> parseMtu(std::string_view text);
// "10ms", "1.5s", "250us", "100" (= ms) -> microseconds.
std::optional<uint64_t> parseDuration(std::string_view text);
// "10mbit", "1gbit", "500kbit", "100" (= kbit/s, as containerlab), "1.5mbps" (bytes) -> bit/s.
std::optional<uint64_t> parseRate(std::string_view text);
// "1.5%", "1.5" -> 1.5; 0..100.
std::optional<double> parsePercent(std::string_view text);
// A Linux interface name: 1..15 chars, no '/', ':', whitespace, not "." or "..".
bool validIfName(std::string_view name, std::string* why = nullptr);
// Lab, node, network and group names: [A-Za-z0-9][A-Za-z0-9_.-]*.
bool validName(std::string_view name);
// A sysctl key in dotted form: "net.ipv4.ip_forward".
bool validSysctl(std::string_view key);
// Splits a command line into words: whitespace separates, '...' and "..." quote, \ escapes.
std::optional<std::vector<std::string>> splitWords(std::string_view text);

}  // namespace netctl::topology::spec
