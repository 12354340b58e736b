// A running lab: `netctl up` (plan, then apply in parallel, journaling every object before it
// is created) and `netctl down` (undo whatever the journal records, after a crash as well).
//
// Node kinds: linux (a container from the runtime, netns pinned as <root>/labs/<lab>/netns/
// <lab>-<node> and linked from /run/netns), bridge (a lab-owned bridge in the host netns, from
// a network or a containerlab bridge node) and host (the host netns, for host:ifname ends).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/topology/model.h"
#include "netctl/topology/plan.h"

namespace netctl::lab {

struct UpOptions {
  std::string root;           // state root
  bool dryRun = false;        // print the plan, change nothing
  bool strictImages = false;  // an image that is not a local directory is an error
  bool progress = false;      // progress lines on `out`
  int jobs = 0;               // workers; 0 = the number of CPUs
  FILE* out = stdout;         // plan, exec output
  FILE* err = stderr;         // warnings
};

struct UpResult {
  topology::Plan plan;
  bool applied = false;
};

// kInvalidInput when the lab collides with a running lab or the host lacks what it needs
// (a parent interface, a kernel feature); then nothing was created.
Result<UpResult> up(const topology::Lab& lab, const UpOptions& options);

// Removes everything the lab's journal records; succeeds when the lab does not exist.
Result<void> down(const std::string& root, const std::string& lab);

// The names of the labs that have state under root.
Result<std::vector<std::string>> labs(const std::string& root);

// Test-only: NETCTL_TEST_DIE_AFTER_STEP=N kills the process with SIGKILL right after the N-th
// journaled step of `up`.
inline constexpr const char* kDieAfterStepEnv = "NETCTL_TEST_DIE_AFTER_STEP";

}  // namespace netctl::lab
