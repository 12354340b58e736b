// The runtime core: create, start, kill, wait, state, delete and exec of the containers that
// are a lab's nodes. No daemon: a node's PID 1 is netctl's small init, so a node outlives the
// netctl process that created it, and every verb works from a later process through the state
// kept under the state root (<root>/containers/<name>/).
//
//   Runtime rt;                                   // $NETCTL_ROOT or /run/netctl
//   auto st = rt.create(spec, {.wireNetwork = ...});  // namespaces made, network wired,
//                                                 // everything set up, command not yet running
//   rt.start(spec.name);                          // the command execs
//   rt.exec(spec.name, {.argv = {"ip", "addr"}});  // like `docker exec`
//   rt.destroy(spec.name);                        // processes, cgroup, state: all gone
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/runtime/spec.h"

namespace netctl::runtime {

// $NETCTL_ROOT, else /run/netctl.
std::string defaultStateRoot();

// File descriptors given to a process as 0, 1, 2; -1 means /dev/null.
struct Stdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct CreateOptions {
  // Runs in the calling process once the node's namespaces exist (its init is `initPid`, so
  // its netns is /proc/<initPid>/ns/net) and before the node finishes its setup: move veths
  // in here. An error aborts the create, and everything made so far is removed. Wiring after
  // create (before start) works as well and is faster: without this callback (and without a
  // user namespace) the node sets itself up without waiting for the caller.
  std::function<Result<void>(pid_t initPid)> wireNetwork;
  Stdio stdio;  // the command's
};

enum class Status {
  kCreated,  // set up, the command waits for start
  kRunning,  // the command runs
  kStopped,  // the command exited; the init keeps the namespaces until delete or kill
  kGone,     // the init is gone (killed, or the machine rebooted); only delete is left
};
std::string_view statusName(Status status);

struct State {
  std::string name;
  Status status = Status::kGone;
  pid_t initPid = 0;     // host pid of the node's PID 1
  pid_t commandPid = 0;  // host pid of the command
  std::optional<int> exitCode;  // once stopped: the exit code (128+N when killed by signal N)
  std::string bundleDir;        // <root>/containers/<name>
  std::vector<std::string> cgroupPaths;
  // /proc/<initPid>/ns/<kind> for net, mnt, uts, ipc, pid, cgroup, user.
  std::string namespacePath(const std::string& kind) const;
};

struct ExecOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in the container's PATH
  std::vector<std::string> env;   // added to (and overriding) the container's env
  std::string cwd;                // default: the container's
  std::optional<uid_t> uid;       // default: the container's
  std::optional<gid_t> gid;
  bool tty = false;               // a pty from the container's devpts; stdio is relayed
  Stdio stdio;                    // default (-1): the caller's own 0, 1, 2
};

class Runtime {
 public:
  explicit Runtime(std::string stateRoot = defaultStateRoot());
  const std::string& stateRoot() const { return root_; }

  // kConflict when a container of that name exists. On error nothing is left behind.
  Result<State> create(const Spec& spec, const CreateOptions& options = {});
  // Lets the command exec; fails with the exec's error (e.g. ENOENT) if it could not.
  Result<void> start(const std::string& name);
  // Signals the init: SIGTERM/SIGINT go to the command while it runs and stop the node once
  // it has exited; SIGKILL ends the node at once.
  Result<void> kill(const std::string& name, int signal);
  // Waits until the command has exited and returns its exit code. kConflict on timeout.
  Result<int> wait(const std::string& name,
                   std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  Result<State> state(const std::string& name);
  Result<std::vector<std::string>> list();
  // Kills whatever runs, waits for it, removes the cgroup and the state. Succeeds when the
  // container does not exist.
  Result<void> destroy(const std::string& name);
  // Runs a process inside a running node (all its namespaces, its cgroup, the same
  // capabilities, no_new_privs and seccomp filter) and returns its exit code.
  Result<int> exec(const std::string& name, const ExecOptions& options);
  // Rewrites the node's /etc/hosts (inside its private upper layer, or its bound copy).
  Result<void> writeHosts(const std::string& name, const std::string& content);

 private:
  std::string root_;
};

}  // namespace netctl::runtime
