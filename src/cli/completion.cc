// netctl completion bash, netctl manpage: both generated from the verb table, so a new verb
// appears in them without anyone remembering to add it.
#include <cstdio>
#include <string>

#include "cli/options.h"
#include "cli/verbs.h"

namespace netctl::cli {
namespace {

std::string verbNames() {
  std::string names;
  for (const auto& v : verbs()) names += std::string(names.empty() ? "" : " ") + v.name;
  return names;
}

// roff needs a leading '.' or '\'' escaped and backslashes doubled.
std::string roff(std::string_view s) {
  std::string out;
  for (char c : s) out += c == '\\' ? std::string("\\e") : std::string(1, c);
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

}  // namespace

int runCompletion(const GlobalOptions&, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "bash")
    return reportError(invalidInput("completion: usage: netctl completion bash").error());
  // Lab names come from the state root at completion time; files from the shell.
  std::printf(R"SH(# bash completion for netctl; load with: source <(netctl completion bash)
_netctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} verb=${COMP_WORDS[1]}
  local root=${NETCTL_ROOT:-/run/netctl}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "%s -v --root --log-format --help --version" -- "$cur"))
    return
  fi
  case "$cur" in -*)
    COMPREPLY=($(compgen -W "--help --output --dry-run --all --interfaces --format --strict-images -t" -- "$cur"))
    return;;
  esac
  case "$verb" in
    down|inspect|exec|graph|impair|link|stop|start|restart|events)
      COMPREPLY=($(compgen -W "$(ls "$root/labs" 2>/dev/null)" -- "$cur") $(compgen -f -- "$cur"));;
    completion) COMPREPLY=($(compgen -W "bash" -- "$cur"));;
    *) COMPREPLY=($(compgen -f -- "$cur"));;
  esac
}
complete -o filenames -F _netctl netctl
)SH",
              verbNames().c_str());
  return 0;
}

int runManpage(const GlobalOptions&, const std::vector<std::string>&) {
  std::printf(".TH NETCTL 8 \"\" \"netctl %s\" \"System Administration\"\n", NETCTL_VERSION);
  std::printf(".SH NAME\nnetctl \\- container networking, lab topologies and a CNI plugin on netlink\n");
  std::printf(".SH SYNOPSIS\n.B netctl\n[\\-v] [\\-\\-log\\-format text|json] [\\-\\-root DIR] VERB [ARGS...]\n");
  std::printf(".SH DESCRIPTION\nnetctl creates bridges, veth pairs, macvlan and vxlan links and nftables NAT in any\n"
              "network namespace, runs each lab node as a container of its own, and brings up labs\n"
              "written in YAML. Run \\fBnetctl VERB \\-\\-help\\fR for a verb's options.\n");
  std::printf(".SH VERBS\n");
  for (const auto& v : verbs()) std::printf(".TP\n.B %s\n%s\n", v.name, roff(v.summary).c_str());
  std::printf(".SH OPTIONS\n.TP\n.B \\-v\nmore logs (debug); twice for trace\n.TP\n.B \\-\\-log\\-format text|json\n"
              "one JSON object per log line with json\n.TP\n.B \\-\\-root DIR\nthe state root (default "
              "\\fI/run/netctl\\fR, or \\fB$NETCTL_ROOT\\fR)\n");
  std::printf(".SH EXIT STATUS\n0 on success, 2 for invalid input (nothing was created), 1 for any other failure;\n"
              "\\fBexec\\fR exits with the command's status.\n");
  std::printf(".SH ENVIRONMENT\n.TP\n.B NETCTL_ROOT\nthe state root\n.TP\n.B NETCTL_CGROUP_PARENT\n"
              "the cgroup that nodes are created under, relative to netctl's own cgroup (default netctl)\n"
              ".TP\n.B CNI_COMMAND\nwhen set, netctl answers as a CNI plugin\n");
  std::printf(".SH FILES\n.TP\n.I /run/netctl/labs/<lab>/\nper lab: lock, journal, resolved topology, pinned namespaces\n"
              ".TP\n.I /run/netns/<lab>-<node>\neach node's network namespace, for ip netns\n");
  return 0;
}

}  // namespace netctl::cli
