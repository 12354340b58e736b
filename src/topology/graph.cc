#include "netctl/topology/graph.h"

#include <fmt/format.h>

namespace netctl::topology::graph {
namespace {

// Graph ids are quoted in dot; mermaid ids must be plain, so names are mapped to n0, n1, ...
std::string dotQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string mermaidLabel(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"') out += "#quot;";
    else if (c == '<') out += "#lt;";
    else if (c == '>') out += "#gt;";
    else out += c;
  }
  return out;
}

std::string endLabel(const Endpoint& ep) {
  std::string s = ep.iface;
  if (ep.ipv4) s += " " + ep.ipv4->str();
  return s;
}

}  // namespace

std::string dot(const Lab& lab) {
  std::string out = fmt::format("graph {} {{\n  label={};\n  node [shape=box];\n",
                                dotQuote(lab.name), dotQuote(lab.name));
  for (const auto& net : lab.networks) {
    std::string label = net.name;
    if (net.subnet) label += "\\n" + net.subnet->str();
    out += fmt::format("  {} [shape=ellipse, label={}];\n", dotQuote("net:" + net.name),
                       dotQuote(label));
  }
  for (const auto& node : lab.nodes) {
    out += fmt::format("  {} [label={}", dotQuote(node.name), dotQuote(node.name));
    if (!node.group.empty()) out += fmt::format(", group={}", dotQuote(node.group));
    out += "];\n";
  }
  bool hostUsed = false;
  for (const auto& link : lab.links)
    if (link.type == LinkType::kHost || link.type == LinkType::kMacvlan) hostUsed = true;
  if (hostUsed) out += "  \"host\" [shape=house];\n";
  for (const auto& node : lab.nodes)
    for (const auto& a : node.networks)
      out += fmt::format("  {} -- {} [taillabel={}];\n", dotQuote(node.name),
                         dotQuote("net:" + a.network),
                         dotQuote(a.iface + (a.ip ? " " + a.ip->str() : "")));
  for (const auto& link : lab.links) {
    auto vertex = [](const Endpoint& ep) {
      return ep.kind == EndpointKind::kBridge ? "net:" + ep.node : ep.node;
    };
    if (link.endpoints.size() == 2) {
      const auto& a = link.endpoints[0];
      const auto& b = link.endpoints[1];
      out += fmt::format("  {} -- {} [taillabel={}, headlabel={}];\n", dotQuote(vertex(a)),
                         dotQuote(vertex(b)), dotQuote(endLabel(a)), dotQuote(endLabel(b)));
    } else if (link.endpoints.size() == 1) {
      const auto& a = link.endpoints[0];
      std::string other = "host";
      if (link.type == LinkType::kVxlan) {
        other = "vxlan:" + (link.remote ? link.remote->str() : std::string("?"));
        out += fmt::format("  {} [shape=cloud];\n", dotQuote(other));
      } else if (link.type == LinkType::kDummy) {
        other = "dummy:" + a.node + ":" + a.iface;
        out += fmt::format("  {} [shape=point];\n", dotQuote(other));
      }
      out += fmt::format("  {} -- {} [taillabel={}, label={}];\n", dotQuote(vertex(a)),
                         dotQuote(other), dotQuote(endLabel(a)),
                         dotQuote(fmt::format("{} {}", linkTypeName(link.type), link.hostInterface)));
    }
  }
  out += "}\n";
  return out;
}

std::string mermaid(const Lab& lab) {
  std::string out = "graph LR\n";
  std::map<std::string, std::string> ids;
  auto id = [&](const std::string& key) {
    auto [it, fresh] = ids.try_emplace(key, fmt::format("n{}", ids.size()));
    return it->second;
  };
  for (const auto& net : lab.networks) {
    std::string label = net.name + (net.subnet ? "<br/>" + net.subnet->str() : std::string());
    out += fmt::format("  {}((\"{}\"))\n", id("net:" + net.name), mermaidLabel(label));
  }
  for (const auto& node : lab.nodes)
    out += fmt::format("  {}[\"{}\"]\n", id("node:" + node.name), mermaidLabel(node.name));
  auto vertex = [&](const Endpoint& ep) {
    return id(ep.kind == EndpointKind::kBridge ? "net:" + ep.node : "node:" + ep.node);
  };
  for (const auto& node : lab.nodes)
    for (const auto& a : node.networks)
      out += fmt::format("  {} ---|\"{}\"| {}\n", id("node:" + node.name),
                         mermaidLabel(a.iface + (a.ip ? " " + a.ip->str() : "")),
                         id("net:" + a.network));
  for (const auto& link : lab.links) {
    if (link.endpoints.size() == 2) {
      const auto& a = link.endpoints[0];
      const auto& b = link.endpoints[1];
      out += fmt::format("  {} ---|\"{} -- {}\"| {}\n", vertex(a), mermaidLabel(endLabel(a)),
                         mermaidLabel(endLabel(b)), vertex(b));
    } else if (link.endpoints.size() == 1) {
      const auto& a = link.endpoints[0];
      std::string other;
      if (link.type == LinkType::kVxlan) {
        std::string remote = link.remote ? link.remote->str() : "?";
        other = id("vxlan:" + remote);
        out += fmt::format("  {}{{{{\"vxlan {}\"}}}}\n", other, remote);
      } else if (link.type == LinkType::kDummy) {
        other = id("dummy:" + a.str());
        out += fmt::format("  {}([\"dummy\"])\n", other);
      } else {
        other = id("host");
        out += fmt::format("  {}[/\"host\"\\]\n", other);
      }
      out += fmt::format("  {} ---|\"{} {}\"| {}\n", vertex(a), mermaidLabel(endLabel(a)),
                         mermaidLabel(link.hostInterface), other);
    }
  }
  return out;
}

}  // namespace netctl::topology::graph
