// The verbs of the netctl command line: one file per verb in src/cli, all listed here.
#pragma once

#include <string>
#include <vector>

#include "netctl/base/log.h"

namespace netctl::cli {

struct GlobalOptions {
  int verbosity = 0;
  log::Format logFormat = log::Format::kText;
  std::string root;  // state root: --root, else $NETCTL_ROOT, else /run/netctl
};

// A verb gets the arguments after its name and returns the process exit code.
using VerbFn = int (*)(const GlobalOptions&, const std::vector<std::string>& args);

struct Verb {
  const char* name;
  const char* summary;
  VerbFn run;
};

int runDoctor(const GlobalOptions&, const std::vector<std::string>& args);
int runValidate(const GlobalOptions&, const std::vector<std::string>& args);
int runExec(const GlobalOptions&, const std::vector<std::string>& args);
int runGraph(const GlobalOptions&, const std::vector<std::string>& args);
int runUp(const GlobalOptions&, const std::vector<std::string>& args);
int runDown(const GlobalOptions&, const std::vector<std::string>& args);
int runInspect(const GlobalOptions&, const std::vector<std::string>& args);
int runCni(const GlobalOptions&, const std::vector<std::string>& args);
int runImpair(const GlobalOptions&, const std::vector<std::string>& args);
int runLink(const GlobalOptions&, const std::vector<std::string>& args);
int runStop(const GlobalOptions&, const std::vector<std::string>& args);
int runStart(const GlobalOptions&, const std::vector<std::string>& args);
int runRestart(const GlobalOptions&, const std::vector<std::string>& args);
int runEvents(const GlobalOptions&, const std::vector<std::string>& args);
int runCompletion(const GlobalOptions&, const std::vector<std::string>& args);
int runManpage(const GlobalOptions&, const std::vector<std::string>& args);

inline const std::vector<Verb>& verbs() {
  static const std::vector<Verb> all = {
      {"up", "bring a lab up (or reconcile a running one) from a topology file", runUp},
      {"down", "take a lab down, even after a crash; --all for every lab", runDown},
      {"inspect", "show a running lab's nodes, links and networks", runInspect},
      {"validate", "check a topology file without touching the machine", runValidate},
      {"exec", "run a command in a node of a running lab", runExec},
      {"impair", "set, show or reset a link impairment (rate, delay, loss, ...) live", runImpair},
      {"link", "set a link down or up (both ends), kept across up", runLink},
      {"stop", "stop a node, keeping its links (interfaces parked)", runStop},
      {"start", "start a stopped node, its interfaces back as they were", runStart},
      {"restart", "stop and start a node, keeping its links", runRestart},
      {"events", "stream a lab's link, address and node state changes", runEvents},
      {"graph", "draw a lab (file or running) as dot, mermaid or svg", runGraph},
      {"cni", "act as a CNI plugin (also whenever CNI_COMMAND is set)", runCni},
      {"doctor", "check what this machine supports for netctl", runDoctor},
      {"completion", "print a bash completion script (netctl completion bash)", runCompletion},
      {"manpage", "print the man page (roff)", runManpage},
  };
  return all;
}

}  // namespace netctl::cli
