// The init of a node (its PID 1): netctl's own, forked from the launcher, not re-executed.
// It reaps every zombie, forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the
// command, records the command's wait status in the node's state dir, and after the command
// exits keeps the namespaces alive until it is told to stop (SIGTERM or SIGINT).
//
// Being a fork of a large process, it first gives back every page it inherited or touched
// during the setup: it releases (MADV_DONTNEED) every mapping except its stack (code pages come
// back from the page cache when executed), then runs a loop of raw system calls that touches
// nothing else. Its RSS is then a few pages (measured in the tests).
#pragma once

#include <sys/types.h>

namespace netctl::runtime::node_init {

// Call before forking the command: the init waits for these with sigtimedwait.
void blockSignalsInChild();
// The loop; never returns. Only statusFd may stay open.
[[noreturn]] void runInChild(pid_t command, int statusFd);

}  // namespace netctl::runtime::node_init
