// The probe that runs inside test containers and reports from the inside.
//
// Choice: the test binary itself is the probe. When started with NETCTL_RUNTIME_PROBE=<mode>
// in its environment, an ELF constructor runs the probe and exits before gtest's main ever
// runs. No extra build step (tests may not add CMake targets), no compiler needed at test
// time, and under ASan+UBSan the probe is sanitized too. The containers see the binary bound in
// at its own path (fixture.h), wherever the checkout is.
//
// Output: "key=value" lines on stdout.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

std::string readAll(const char* path) {
  std::string out;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<" + std::string(std::strerror(errno)) + ">";
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string statusField(const char* key) {
  std::string status = readAll("/proc/self/status");
  auto pos = status.find(std::string(key) + ":");
  if (pos == std::string::npos) return "";
  pos += std::strlen(key) + 1;
  while (status[pos] == ' ' || status[pos] == '\t') ++pos;
  return status.substr(pos, status.find('\n', pos) - pos);
}

std::string listDir(const char* path, bool numericOnly) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(path)) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      if (numericOnly && n.find_first_not_of("0123456789") != std::string::npos) continue;
      names.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return numericOnly ? std::stol(a) < std::stol(b) : a < b;
  });
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

int errnoOf(long rc) { return rc < 0 ? errno : 0; }

// 0 when one byte goes to /dev/null and one comes from /dev/urandom, else the errno.
int devicesWork() {
  char byte = 0;
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0 || ::write(null, &byte, 1) != 1) return errno;
  ::close(null);
  int random = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (random < 0 || ::read(random, &byte, 1) != 1) return errno;
  ::close(random);
  return 0;
}

int report() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::printf("pid=%d\nppid=%d\n", ::getpid(), ::getppid());
  std::printf("procpids=%s\n", listDir("/proc", true).c_str());
  std::printf("hostname=%s\n", host);
  std::printf("netdevs=%s\n", listDir("/sys/class/net", false).c_str());
  std::printf("procsys_write=%d\n", errnoOf(::open("/proc/sys/net/ipv4/ip_forward", O_WRONLY)));
  std::printf("sys_write=%d\n", errnoOf(::mkdir("/sys/kernel/netctl-probe", 0755)));
  std::printf("mount=%d\n", errnoOf(::mount("tmpfs", "/mnt", "tmpfs", 0, nullptr)));
  std::printf("timer_list_bytes=%zu\n", readAll("/proc/timer_list").size());
  std::printf("keys_bytes=%zu\n", readAll("/proc/keys").size());
  std::printf("firmware=%s\n", listDir("/sys/firmware", false).c_str());
  std::printf("capeff=%s\ncapprm=%s\ncapbnd=%s\n", statusField("CapEff").c_str(), statusField("CapPrm").c_str(),
              statusField("CapBnd").c_str());
  std::printf("nnp=%s\nseccomp=%s\n", statusField("NoNewPrivs").c_str(), statusField("Seccomp").c_str());
  std::printf("keyctl=%d\n", errnoOf(::syscall(SYS_keyctl, 0 /*KEYCTL_GET_KEYRING_ID*/, -3, 0)));
  std::printf("uid=%d\neuid=%d\n", ::getuid(), ::geteuid());
  std::string map = readAll("/proc/self/uid_map");
  std::printf("uidmap=%s\n", map.substr(0, map.find('\n')).c_str());
  std::printf("tmp_write=%d\n", errnoOf(::open("/tmp/probe-file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
  std::printf("devices=%d\n", devicesWork());
  // A device outside Docker's list that root may open without a capability (/dev/fuse,
  // c 10:229): made, then opened.
  int made = errnoOf(::mknod("/dev/probe-fuse", S_IFCHR | 0600, makedev(10, 229)));
  std::printf("fuse_open=%d\n", made ? -made : errnoOf(::open("/dev/probe-fuse", O_RDWR | O_CLOEXEC)));
  return 0;
}

// Touches memory 1 MiB at a time up to argv MiB; the memory limit should kill it first.
int memhog(long mib) {
  for (long i = 0; i < mib; ++i) {
    char* p = static_cast<char*>(std::malloc(1 << 20));
    if (!p) return 3;
    std::memset(p, 1, 1 << 20);
    std::printf("mib=%ld\n", i + 1);
    std::fflush(stdout);
  }
  return 0;
}

// Forks sleeping children until fork fails; reports how many it got.
int forkbomb(long max) {
  std::vector<pid_t> kids;
  int err = 0;
  for (long i = 0; i < max; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
    if (pid < 0) {
      err = errno;
      break;
    }
    kids.push_back(pid);
  }
  std::printf("forked=%zu\nfork_errno=%d\n", kids.size(), err);
  for (pid_t k : kids) ::kill(k, SIGKILL);
  for (pid_t k : kids) ::waitpid(k, nullptr, 0);
  return 0;
}

// Spins for ms of wall time and reports the CPU time it got.
int spin(long ms) {
  auto start = std::chrono::steady_clock::now();
  volatile unsigned long x = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(ms)) x = x + 1;
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  long cpuMs = ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 + ru.ru_stime.tv_sec * 1000 +
               ru.ru_stime.tv_usec / 1000;
  std::printf("wall_ms=%ld\ncpu_ms=%ld\n", ms, cpuMs);
  return 0;
}

// Leaves an orphan that exits soon: the node's init must reap it.
int orphan() {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::fork() == 0) {
      ::usleep(50000);
      ::_exit(0);
    }
    ::_exit(0);
  }
  ::waitpid(pid, nullptr, 0);
  ::usleep(300000);
  std::printf("procpids=%s\n", listDir("/proc", true).c_str());
  std::fflush(stdout);
  ::pause();
  return 0;
}

__attribute__((constructor)) void probeMain(int argc, char** argv, char**) {
  const char* mode = std::getenv("NETCTL_RUNTIME_PROBE");
  if (!mode) return;
  std::string m = mode;
  long arg = argc > 1 ? std::atol(argv[1]) : 0;
  int rc = 2;
  if (m == "report") rc = report();
  else if (m == "cat") rc = (std::fputs(readAll(argv[1]).c_str(), stdout), 0);
  else if (m == "write") {
    int fd = ::open(argv[1], O_CREAT | O_WRONLY | O_TRUNC, 0644);
    rc = fd >= 0 && ::write(fd, argv[2], std::strlen(argv[2])) >= 0 ? 0 : 1;
  } else if (m == "euid") rc = (std::printf("euid=%d\n", ::geteuid()), 0);
  else if (m == "exit") rc = static_cast<int>(arg);
  else if (m == "memhog") rc = memhog(arg);
  else if (m == "forkbomb") rc = forkbomb(arg);
  else if (m == "spin") rc = spin(arg);
  else if (m == "orphan") rc = orphan();
  else if (m == "tty") rc = (std::printf("isatty=%d\ntty=%s\n", ::isatty(0), ::ttyname(0) ? ::ttyname(0) : "-"), 0);
  std::fflush(stdout);
  ::_exit(rc);
}

}  // namespace
