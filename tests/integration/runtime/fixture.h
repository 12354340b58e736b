// The fixture of the runtime's kernel tests: a Runtime whose containers are destroyed after each
// test, and the probe (the test binary itself, probe.cc) bound into the nodes that run it.
#pragma once

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "netctl/runtime/container.h"

namespace netctl::runtime::fixture {

using namespace std::chrono_literals;

inline std::string selfExe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Nodes have a private /tmp and /run, so a checkout there (a CI clone under /tmp) would be
// invisible to them: every node that runs the probe gets it bound in at its own path.
inline void bindProbe(Spec& spec, const std::string& path = selfExe()) {
  spec.binds.push_back({path, path, true});
}

inline std::map<std::string, std::string> parseReport(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

inline std::string readFd(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

inline std::string sh(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

class RuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The host's PID 1 here does not reap: orphaned node inits come to the test instead.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  }
  void TearDown() override {
    for (const auto& name : made_) {
      auto gone = rt_.destroy(name);
      EXPECT_TRUE(gone) << name << ": " << (gone ? "" : gone.error().what());
    }
    auto left = rt_.list();
    ASSERT_TRUE(left);
    EXPECT_TRUE(left->empty());
  }

  Spec probeSpec(const std::string& name, const std::string& mode, std::vector<std::string> args = {}) {
    Spec spec;
    spec.name = name;
    spec.command = selfExe();
    spec.args = std::move(args);
    spec.env.push_back("NETCTL_RUNTIME_PROBE=" + mode);
    bindProbe(spec);
    return spec;
  }

  // Creates, starts, waits; returns {exit code, stdout}.
  std::pair<int, std::string> run(const Spec& spec, CreateOptions options = {}) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    options.stdio.out = writeEnd.get();
    auto st = rt_.create(spec, options);
    writeEnd.reset();
    if (!st) {
      ADD_FAILURE() << st.error().what();
      return {-1, ""};
    }
    made_.push_back(spec.name);
    auto started = rt_.start(spec.name);
    EXPECT_TRUE(started) << (started ? "" : started.error().what());
    std::string out = readFd(readEnd.get());
    auto code = rt_.wait(spec.name, 30s);
    EXPECT_TRUE(code) << (code ? "" : code.error().what());
    return {code ? *code : -1, out};
  }

  // Runs the probe in a running node with `netctl exec`'s path; returns {exit code, stdout}.
  std::pair<int, std::string> execProbe(const std::string& node, const std::string& mode,
                                        std::vector<std::string> args) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    UniqueFd r(fds[0]), w(fds[1]);
    ExecOptions opts;
    opts.argv = {selfExe()};
    opts.argv.insert(opts.argv.end(), args.begin(), args.end());
    opts.env = {"NETCTL_RUNTIME_PROBE=" + mode};
    opts.stdio.out = w.get();
    auto rc = rt_.exec(node, opts);
    w.reset();
    EXPECT_TRUE(rc) << (rc ? "" : rc.error().what());
    return {rc ? *rc : -1, readFd(r.get())};
  }

  Result<State> createStarted(const Spec& spec, CreateOptions options = {}) {
    auto st = rt_.create(spec, options);
    if (!st) return st;
    made_.push_back(spec.name);
    NETCTL_TRY(rt_.start(spec.name));
    return rt_.state(spec.name);
  }

  Runtime rt_;
  std::vector<std::string> made_;
};

}  // namespace netctl::runtime::fixture
