#include "netctl/topology/graph.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <set>

namespace netctl::topology::graph {
namespace {

std::string endLabel(const Endpoint& ep) {
  std::string s = ep.iface;
  if (ep.ipv4) s += " " + ep.ipv4->str();
  return s;
}

std::string vertexOf(const Endpoint& ep) { return ep.kind == EndpointKind::kBridge ? "net:" + ep.node : ep.node; }

// The far side of a link with one endpoint: the host, a vxlan remote or a dummy.
Vertex farVertex(const Link& link, const Endpoint& ep) {
  if (link.type == LinkType::kVxlan) {
    std::string remote = link.remote ? link.remote->str() : "?";
    return {"vxlan:" + remote, {"vxlan " + remote}, Shape::kCloud, ""};
  }
  if (link.type == LinkType::kDummy) return {"dummy:" + ep.node + ":" + ep.iface, {"dummy"}, Shape::kPoint, ""};
  return {"host", {"host"}, Shape::kHost, ""};
}

std::string join(const std::vector<std::string>& lines, std::string_view sep) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : std::string(sep)) + l;
  return out;
}

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

std::string xml(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

}  // namespace

Graph build(const Lab& lab) {
  Graph g{lab.name, {}, {}};
  for (const auto& net : lab.networks) {
    Vertex v{"net:" + net.name, {net.name}, Shape::kNetwork, ""};
    if (net.subnet) v.label.push_back(net.subnet->str());
    g.vertices.push_back(std::move(v));
  }
  for (const auto& node : lab.nodes) g.vertices.push_back({node.name, {node.name}, Shape::kNode, node.group});
  for (const auto& node : lab.nodes)
    for (const auto& a : node.networks)
      g.edges.push_back({node.name, "net:" + a.network, a.iface + (a.ip ? " " + a.ip->str() : ""), "", ""});

  std::set<std::string> extra;  // link-only vertices, each added once
  for (const auto& link : lab.links) {
    if (link.endpoints.size() == 2) {
      const auto& a = link.endpoints[0];
      const auto& b = link.endpoints[1];
      g.edges.push_back({vertexOf(a), vertexOf(b), endLabel(a), endLabel(b), ""});
    } else if (link.endpoints.size() == 1) {
      const auto& a = link.endpoints[0];
      Vertex far = farVertex(link, a);
      g.edges.push_back({vertexOf(a), far.id, endLabel(a), "",
                         fmt::format("{} {}", linkTypeName(link.type), link.hostInterface)});
      if (extra.insert(far.id).second) g.vertices.push_back(std::move(far));
    }
  }
  return g;
}

std::string dot(const Lab& lab) {
  Graph g = build(lab);
  std::string out = fmt::format("graph {} {{\n  label={};\n  node [shape=box];\n", dotQuote(g.name), dotQuote(g.name));
  for (const auto& v : g.vertices) {
    out += fmt::format("  {} [label={}", dotQuote(v.id), dotQuote(join(v.label, "\\n")));
    if (v.shape == Shape::kNetwork) out += ", shape=ellipse";
    if (v.shape == Shape::kHost) out += ", shape=house";
    if (v.shape == Shape::kCloud) out += ", shape=cloud";
    if (v.shape == Shape::kPoint) out += ", shape=point";
    if (!v.group.empty()) out += fmt::format(", group={}", dotQuote(v.group));
    out += "];\n";
  }
  for (const auto& e : g.edges) {
    std::vector<std::string> attrs;
    if (!e.tail.empty()) attrs.push_back("taillabel=" + dotQuote(e.tail));
    if (!e.head.empty()) attrs.push_back("headlabel=" + dotQuote(e.head));
    if (!e.label.empty()) attrs.push_back("label=" + dotQuote(e.label));
    out += fmt::format("  {} -- {} [{}];\n", dotQuote(e.a), dotQuote(e.b), join(attrs, ", "));
  }
  return out + "}\n";
}

std::string mermaid(const Lab& lab) {
  Graph g = build(lab);
  std::map<std::string, std::string> ids;  // mermaid ids must be plain: n0, n1, ...
  for (const auto& v : g.vertices) ids.emplace(v.id, fmt::format("n{}", ids.size()));
  std::string out = "graph LR\n";
  for (const auto& v : g.vertices) {
    std::string text = mermaidLabel(join(v.label, "<br/>"));
    const char* shape = v.shape == Shape::kNetwork ? "((\"{}\"))"
                        : v.shape == Shape::kHost  ? "[/\"{}\"\\]"
                        : v.shape == Shape::kCloud ? "{{{{\"{}\"}}}}"
                        : v.shape == Shape::kPoint ? "([\"{}\"])"
                                                   : "[\"{}\"]";
    out += "  " + ids[v.id] + fmt::format(fmt::runtime(shape), text) + "\n";
  }
  for (const auto& e : g.edges) {
    std::vector<std::string> parts;
    if (!e.tail.empty()) parts.push_back(e.tail);
    if (!e.head.empty()) parts.push_back(e.head);
    std::string text = join(parts, " -- ") + (e.label.empty() ? "" : " " + e.label);
    out += fmt::format("  {} ---|\"{}\"| {}\n", ids[e.a], mermaidLabel(text), ids[e.b]);
  }
  return out;
}

std::string svg(const Lab& lab) {
  Graph g = build(lab);
  // Vertices on a circle large enough to give each about 110 px of its rim.
  const double pi = std::acos(-1.0);
  const size_t n = std::max<size_t>(g.vertices.size(), 1);
  const double radius = std::max(160.0, static_cast<double>(n) * 110.0 / (2 * pi));
  const double margin = 140, centre = radius + margin, size = 2 * centre;
  std::map<std::string, std::pair<double, double>> at;
  for (size_t i = 0; i < g.vertices.size(); ++i) {
    double angle = 2 * pi * static_cast<double>(i) / static_cast<double>(n) - pi / 2;
    at[g.vertices[i].id] = {centre + radius * std::cos(angle), centre + radius * std::sin(angle)};
  }
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{0:.0f}\" viewBox=\"0 0 {0:.0f} {0:.0f}\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n<title>{1}</title>\n"
      "<text x=\"12\" y=\"22\" font-size=\"16\">{1}</text>\n",
      size, xml(g.name));
  auto text = [](double x, double y, const std::string& s, const char* extra = "") {
    return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\"{}>{}</text>\n", x, y, extra, xml(s));
  };
  for (const auto& e : g.edges) {
    auto [x1, y1] = at[e.a];
    auto [x2, y2] = at[e.b];
    out += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#888\"/>\n", x1, y1, x2, y2);
    const char* small = " fill=\"#555\" font-size=\"9\"";
    if (!e.tail.empty()) out += text(x1 + (x2 - x1) * 0.25, y1 + (y2 - y1) * 0.25, e.tail, small);
    if (!e.head.empty()) out += text(x1 + (x2 - x1) * 0.75, y1 + (y2 - y1) * 0.75, e.head, small);
    if (!e.label.empty()) out += text((x1 + x2) / 2, (y1 + y2) / 2, e.label, small);
  }
  for (const auto& v : g.vertices) {
    auto [x, y] = at[v.id];
    size_t longest = 0;
    for (const auto& l : v.label) longest = std::max(longest, l.size());
    double w = 16 + 6.5 * static_cast<double>(longest), h = 8 + 14 * static_cast<double>(v.label.size());
    const char* fill = v.shape == Shape::kNetwork ? "#e8f1fb" : v.shape == Shape::kNode ? "#fff" : "#f4f4f4";
    if (v.shape == Shape::kNetwork || v.shape == Shape::kCloud)
      out += fmt::format("<ellipse cx=\"{:.1f}\" cy=\"{:.1f}\" rx=\"{:.1f}\" ry=\"{:.1f}\" fill=\"{}\" stroke=\"#333\"/>\n",
                         x, y, w / 2 + 6, h / 2 + 4, fill);
    else
      out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" rx=\"4\" fill=\"{}\" stroke=\"#333\"/>\n",
                         x - w / 2, y - h / 2, w, h, fill);
    for (size_t i = 0; i < v.label.size(); ++i)
      out += text(x, y - h / 2 + 15 + 14 * static_cast<double>(i), v.label[i]);
  }
  return out + "</svg>\n";
}

}  // namespace netctl::topology::graph
