#include "runtime/node_init.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// After the memory is released nothing may touch the heap, TLS (errno, the stack canary),
// the GOT or sanitizer shadow: the code below is uninstrumented and makes raw system calls.
#define NETCTL_BARE                                                                  \
  __attribute__((no_sanitize("address", "undefined"), no_stack_protector, noinline, \
                 optimize("no-tree-loop-distribute-patterns")))
#define NETCTL_BARE_INLINE \
  __attribute__((no_sanitize("address", "undefined"), no_stack_protector, always_inline)) inline

namespace netctl::runtime::node_init {
namespace {

#if defined(__x86_64__)
constexpr bool kCanTrim = true;
NETCTL_BARE_INLINE long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
  long ret;
  register long r10 asm("r10") = d;
  asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}
#else
// Elsewhere the loop goes through libc and the memory is kept.
constexpr bool kCanTrim = false;
inline long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
  long r = ::syscall(n, a, b, c, d);
  return r < 0 ? -errno : r;
}
#endif

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// The kernel's sigset (one word), so the raw rt_sigtimedwait needs no libc helper.
NETCTL_BARE_INLINE unsigned long initMask() {
  unsigned long mask = 1UL << (SIGCHLD - 1);
  for (int s : kForwarded) mask |= 1UL << (s - 1);
  return mask;
}

NETCTL_BARE_INLINE int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

struct Range {
  unsigned long start;
  unsigned long end;
};

// One line of /proc/self/maps: "start-end perms offset dev inode   name".
NETCTL_BARE bool releasable(const char* line, int len, unsigned long sp, Range* out) {
  int i = 0;
  unsigned long start = 0, end = 0;
  for (; i < len && hexDigit(line[i]) >= 0; ++i) start = start * 16 + static_cast<unsigned long>(hexDigit(line[i]));
  if (i >= len || line[i] != '-') return false;
  for (++i; i < len && hexDigit(line[i]) >= 0; ++i) end = end * 16 + static_cast<unsigned long>(hexDigit(line[i]));
  if (i + 4 >= len) return false;
  // Code pages may go too: the page cache maps them back on the next instruction fetch. Only
  // the stack holds state we need.
  if (sp >= start && sp < end) return false;
  // The name is the sixth field; [vdso], [vvar], [vsyscall] and friends are the kernel's.
  int field = 0;
  for (; i < len && field < 5; ++i) {
    if (line[i] == ' ' && line[i + 1] != ' ') ++field;
  }
  if (i < len && line[i] == '[') {
    bool heap = len - i >= 6 && line[i + 1] == 'h' && line[i + 2] == 'e' && line[i + 3] == 'a';
    bool anon = len - i >= 6 && line[i + 1] == 'a' && line[i + 2] == 'n' && line[i + 3] == 'o';
    bool stack = len - i >= 7 && line[i + 1] == 's' && line[i + 2] == 't' && line[i + 3] == 'a';
    if (!heap && !anon && !stack) return false;
  }
  out->start = start;
  out->end = end;
  return true;
}

NETCTL_BARE void releaseInheritedMemory() {
  constexpr int kMaxRanges = 1024;
  Range ranges[kMaxRanges];
  int count = 0;
  char line[512];
  int lineLen = 0;
  char buf[2048];
  unsigned long sp = reinterpret_cast<unsigned long>(&count);
  static constexpr char kMaps[] = "/proc/self/maps";
  long fd = sys(SYS_open, reinterpret_cast<long>(kMaps), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  for (;;) {
    long n = sys(SYS_read, fd, reinterpret_cast<long>(buf), sizeof buf);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    for (long j = 0; j < n; ++j) {
      if (buf[j] != '\n') {
        if (lineLen < static_cast<int>(sizeof line) - 1) line[lineLen++] = buf[j];
        continue;
      }
      line[lineLen] = '\0';
      if (count < kMaxRanges && releasable(line, lineLen, sp, &ranges[count])) ++count;
      lineLen = 0;
    }
  }
  sys(SYS_close, fd);
  for (int k = 0; k < count; ++k)
    sys(SYS_madvise, static_cast<long>(ranges[k].start), static_cast<long>(ranges[k].end - ranges[k].start),
        MADV_DONTNEED);
}

NETCTL_BARE void recordStatus(int statusFd, int status) {
  char text[16];
  char digits[12];
  int n = 0;
  unsigned value = static_cast<unsigned>(status);
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < 12);
  int len = 0;
  while (n > 0) text[len++] = digits[--n];
  text[len++] = '\n';
  sys(SYS_pwrite64, statusFd, reinterpret_cast<long>(text), len, 0);
}

// The release happens in here, not in the (instrumented) caller: a sanitizer runtime hook the
// compiler puts before calls to noreturn functions would touch the released memory.
NETCTL_BARE [[noreturn]] void loop(pid_t command, int statusFd, bool release) {
  if (release) releaseInheritedMemory();
  unsigned long mask = initMask();
  char info[128];  // siginfo_t, unused
  bool alive = true;
  for (;;) {
    for (;;) {
      int status = 0;
      long pid = sys(SYS_wait4, -1, reinterpret_cast<long>(&status), WNOHANG, 0);
      if (pid <= 0) break;
      if (pid == command && alive) {
        recordStatus(statusFd, status);
        alive = false;
      }
    }
    long sig = sys(SYS_rt_sigtimedwait, reinterpret_cast<long>(&mask), reinterpret_cast<long>(info), 0, 8);
    if (sig <= 0 || sig == SIGCHLD) continue;
    if (alive) {
      sys(SYS_kill, command, sig);
    } else if (sig == SIGTERM || sig == SIGINT) {
      sys(SYS_exit_group, 0);
    }
  }
}

}  // namespace

void blockSignalsInChild() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int s : kForwarded) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

void runInChild(pid_t command, int statusFd) { loop(command, statusFd, kCanTrim); }

}  // namespace netctl::runtime::node_init
