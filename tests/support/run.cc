#include "support/run.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "netctl/base/unique_fd.h"

namespace netctl::testing {
namespace {

void drain(int fd, std::string& into) {
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) into.append(buf, static_cast<size_t>(n));
}

}  // namespace

Output run(const std::vector<std::string>& argv) {
  Output result;
  int outPipe[2], errPipe[2];
  if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0) return result;
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(outPipe[1], 1);
    ::dup2(errPipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::perror(args[0]);
    ::_exit(127);
  }
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
