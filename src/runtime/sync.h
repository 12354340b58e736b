// The parent/child channel of the launcher: a SOCK_SEQPACKET socketpair carrying one-byte
// messages, errors with their full context (crun-style: the parent prints the child's real
// cause), and the sender's pid as the kernel translated it into the receiver's pid namespace.
#pragma once

#include <sys/types.h>

#include <optional>

#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"

namespace netctl::runtime::sync {

enum class Msg : char {
  kHello = 'H',  // child -> parent: "I exist" (the credentials carry the pid)
  kGo = 'G',     // parent -> child: maps written, cgroup joined, network wired
  kReady = 'R',  // command process -> parent: set up, waiting for start
  kError = 'E',  // child -> parent: an Error follows
  kFd = 'F',     // child -> parent: a file descriptor follows (the pty master of exec -t)
  kPid = 'P',    // spawner -> caller: the pid of the init it made follows (spawner.h)
};

struct Pair {
  UniqueFd parent;  // SO_PASSCRED set: received messages carry the sender's pid
  UniqueFd child;
};
Result<Pair> makePair();

struct Received {
  Msg msg = Msg::kError;
  pid_t pid = 0;                // the sender, in the receiver's pid namespace
  std::optional<Error> error;   // for kError
  UniqueFd fd;                  // for kFd
  pid_t sentPid = 0;            // for kPid
};
// EOF is reported as kConflict-free kSystem error "channel closed" (errnum EPIPE).
Result<Received> receive(int fd);

Result<void> send(int fd, Msg msg, int passFd = -1);
Result<void> sendPid(int fd, pid_t pid);
// Best effort from a child about to exit: nothing to do if it fails.
void sendError(int fd, const Error& error);

}  // namespace netctl::runtime::sync
