#include "support/run.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string_view>

#include "netctl/base/unique_fd.h"

namespace netctl::testing {
namespace {

void drain(int fd, std::string& into) {
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) into.append(buf, static_cast<size_t>(n));
}

}  // namespace

Output run(const std::vector<std::string>& argv) { return runWith(argv, {}, std::string()); }

Output runWith(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::string& input) {
  Output result;
  int outPipe[2], errPipe[2];
  if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0) return result;
  // stdin from a file (not a pipe), so a large input never blocks the parent.
  char inPath[] = "/tmp/netctl-run-stdin-XXXXXX";
  int in = input.empty() ? ::open("/dev/null", O_RDONLY | O_CLOEXEC) : ::mkostemp(inPath, O_CLOEXEC);
  if (in < 0) return result;
  if (!input.empty()) {
    ::unlink(inPath);
    if (::write(in, input.data(), input.size()) != ssize_t(input.size()) || ::lseek(in, 0, SEEK_SET) != 0) {
      ::close(in);
      return result;
    }
  }
  // The child's environment, built before fork (no allocation after fork: tests run this
  // from many threads at once).
  std::vector<std::string> vars;
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    bool overridden = false;
    for (const auto& o : env)
      if (o.substr(0, o.find('=') + 1) == v.substr(0, v.find('=') + 1)) overridden = true;
    if (!overridden) vars.emplace_back(v);
  }
  vars.insert(vars.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in, 0);
    ::dup2(outPipe[1], 1);
    ::dup2(errPipe[1], 2);
    ::execvpe(args[0], args.data(), envp.data());
    std::perror(args[0]);
    ::_exit(127);
  }
  ::close(in);
  ::close(outPipe[1]);
  ::close(errPipe[1]);
  UniqueFd out(outPipe[0]), err(errPipe[0]);
  // Read both pipes as they fill, so a chatty child never blocks on a full pipe.
  pollfd fds[2] = {{out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}};
  int open = 2;
  while (open > 0 && ::poll(fds, 2, -1) >= 0) {
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      size_t before = (i == 0 ? result.out : result.err).size();
      drain(fds[i].fd, i == 0 ? result.out : result.err);
      if ((i == 0 ? result.out : result.err).size() == before) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Output netctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {NETCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

}  // namespace netctl::testing
