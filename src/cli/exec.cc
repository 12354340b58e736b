// netctl exec LAB NODE [-t] -- CMD...: runs a command inside a running node, with its
// namespaces, cgroup, capabilities and seccomp filter, and exits with the command's code.
#include <unistd.h>

#include <cstdio>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/runtime/container.h"
#include "netctl/topology/names.h"

namespace netctl::cli {

int runExec(const GlobalOptions& global, const std::vector<std::string>& args) {
  const char* usage = "usage: netctl exec [-t] LAB NODE -- CMD [ARGS...]\n";
  bool tty = false;
  std::vector<std::string> words, command;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (args[i] == "-h" || args[i] == "--help") return std::printf("%s", usage), 0;
    if (args[i] == "-t" || args[i] == "--tty") {
      tty = true;
    } else if (args[i].starts_with("-")) {
      return reportError(invalidInput(fmt::format("exec: unknown option {}\n{}", args[i], usage)).error());
    } else {
      words.push_back(args[i]);
    }
  }
  // `netctl exec LAB NODE CMD...` without `--` works too, as with docker exec.
  if (command.empty() && words.size() > 2) command.assign(words.begin() + 2, words.end()), words.resize(2);
  if (words.size() != 2 || command.empty())
    return reportError(invalidInput(fmt::format("exec: expected LAB NODE -- CMD\n{}", usage)).error());

  runtime::Runtime rt(global.root);
  const std::string name = topology::names::netns(words[0], words[1]);
  runtime::ExecOptions opts;
  opts.argv = command;
  opts.tty = tty && ::isatty(STDIN_FILENO);
  auto code = rt.exec(name, opts);
  if (!code) return reportError(code.error().context(fmt::format("exec in {} node {}", words[0], words[1])));
  return *code;
}

}  // namespace netctl::cli
