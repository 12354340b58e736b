#include "runtime/device_rules.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "netctl/base/fs.h"

namespace netctl::cgroup::device_rules {
namespace {

struct Rule {
  char type;        // 'c' or 'b'
  int major;        // -1: any
  int minor;        // -1: any
  uint32_t access;  // BPF_DEVCG_ACC_* bits
};

constexpr uint32_t kM = BPF_DEVCG_ACC_MKNOD;
constexpr uint32_t kRwm = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

// Docker's list (moby's oci/defaults.go): make anything; open null, zero, full, random,
// urandom, tty, console, ptmx, the ptys and tun.
constexpr Rule kRules[] = {
    {'c', -1, -1, kM}, {'b', -1, -1, kM}, {'c', 1, 3, kRwm},    {'c', 1, 5, kRwm},
    {'c', 1, 7, kRwm}, {'c', 1, 8, kRwm}, {'c', 1, 9, kRwm},    {'c', 5, 0, kRwm},
    {'c', 5, 1, kRwm}, {'c', 5, 2, kRwm}, {'c', 136, -1, kRwm}, {'c', 10, 200, kRwm},
};

std::string textOf(const Rule& r) {
  auto num = [](int n) { return n < 0 ? std::string("*") : std::to_string(n); };
  std::string access;
  if (r.access & BPF_DEVCG_ACC_READ) access += 'r';
  if (r.access & BPF_DEVCG_ACC_WRITE) access += 'w';
  if (r.access & BPF_DEVCG_ACC_MKNOD) access += 'm';
  return fmt::format("{} {}:{} {}", r.type, num(r.major), num(r.minor), access);
}

bpf_insn op(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// The program: r2 = requested access, r3 = device type, r4 = major, r5 = minor; then one block
// per rule that returns 1 (allow) when the device matches and the access is within the rule's,
// and jumps to the next block otherwise; 0 (deny) after the last.
std::vector<bpf_insn> program() {
  enum : uint8_t { R0, R1, R2, R3, R4, R5, R6 };
  auto load = [](uint8_t dst, size_t field) {
    return op(BPF_LDX | BPF_MEM | BPF_W, dst, R1, static_cast<int16_t>(field), 0);
  };
  std::vector<bpf_insn> p = {
      load(R2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      op(BPF_ALU64 | BPF_MOV | BPF_X, R3, R2, 0, 0),
      op(BPF_ALU64 | BPF_AND | BPF_K, R3, 0, 0, 0xffff),
      op(BPF_ALU64 | BPF_RSH | BPF_K, R2, 0, 0, 16),
      load(R4, offsetof(bpf_cgroup_dev_ctx, major)),
      load(R5, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  auto jumpIfNot = [](uint8_t reg, int32_t value) { return op(BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, value); };
  for (const Rule& r : kRules) {
    std::vector<bpf_insn> b;
    std::vector<size_t> skips;  // jumps to the next block, their offsets set below
    auto skipUnless = [&](bpf_insn jump) {
      skips.push_back(b.size());
      b.push_back(jump);
    };
    skipUnless(jumpIfNot(R3, r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
    if (r.access != kRwm) {  // every requested bit must be one the rule allows
      b.push_back(op(BPF_ALU64 | BPF_MOV | BPF_X, R6, R2, 0, 0));
      b.push_back(op(BPF_ALU64 | BPF_AND | BPF_K, R6, 0, 0, static_cast<int32_t>(~r.access & kRwm)));
      skipUnless(jumpIfNot(R6, 0));
    }
    if (r.major >= 0) skipUnless(jumpIfNot(R4, r.major));
    if (r.minor >= 0) skipUnless(jumpIfNot(R5, r.minor));
    b.push_back(op(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 1));
    b.push_back(op(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    for (size_t at : skips) b[at].off = static_cast<int16_t>(b.size() - at - 1);
    p.insert(p.end(), b.begin(), b.end());
  }
  p.push_back(op(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0));
  p.push_back(op(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

Result<int> tryLoad(const std::vector<bpf_insn>& insns, std::string* log) {
  static const char kLicense[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uintptr_t>(insns.data());
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.license = reinterpret_cast<uintptr_t>(kLicense);
  if (log) {
    attr.log_buf = reinterpret_cast<uintptr_t>(log->data());
    attr.log_size = static_cast<uint32_t>(log->size());
    attr.log_level = 1;
  }
  long fd = bpf(BPF_PROG_LOAD, attr);
  if (fd < 0) return errnoError("loading the device program (BPF_PROG_LOAD)");
  return static_cast<int>(fd);
}

// Loaded once per process; every group attaches the same program.
Result<int> loadedProgram() {
  static std::mutex mu;
  static int fd = -1;
  std::lock_guard lock(mu);
  if (fd >= 0) return fd;
  auto insns = program();
  auto loaded = tryLoad(insns, nullptr);
  if (!loaded) {
    int err = loaded.error().errnum();
    if (err == EPERM) return loaded;
    std::string log(1 << 16, '\0');  // again, for the verifier's reason
    (void)tryLoad(insns, &log);
    log.resize(log.find('\0'));
    if (!log.empty())
      return std::unexpected(std::move(loaded.error()).context(fmt::format("verifier: {}", log)));
    if (err == EINVAL)
      return unsupported("the kernel has no cgroup device programs (CONFIG_CGROUP_BPF), "
                         "which carry device rules on cgroup2");
    return loaded;
  }
  fd = *loaded;
  return fd;
}

}  // namespace

Result<void> writeV1(const std::string& dir) {
  NETCTL_TRY(fs::writeFile(dir + "/devices.deny", "a"));
  // One open for every rule (the kernel takes one rule per write). Each allow is best effort: a
  // parent that denies a device already keeps it from the node.
  std::string allow = dir + "/devices.allow";
  auto fd = NETCTL_TRY(fs::open(allow, O_WRONLY));
  for (const Rule& r : kRules) {
    std::string rule = textOf(r);
    if (::write(fd.get(), rule.data(), rule.size()) < 0 && errno != EPERM)
      return errnoError(fmt::format("writing \"{}\" to {}", rule, allow));
  }
  return {};
}

Result<void> attachV2(const std::string& dir) {
  int prog = NETCTL_TRYC(loadedProgram(), "device rules");
  auto cg = NETCTL_TRYC(fs::open(dir, O_RDONLY | O_DIRECTORY), "device rules");
  bpf_attr attr{};
  attr.target_fd = static_cast<uint32_t>(cg.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, attr) != 0)
    return errnoError(fmt::format("device rules: attaching the program to {}", dir));
  return {};
}

}  // namespace netctl::cgroup::device_rules
