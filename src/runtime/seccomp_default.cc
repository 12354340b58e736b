// netctl's default seccomp profile, built in so that the library needs no data file. It is the
// same text as configs/seccomp/default.json (a unit test compares them): edit both together.
// Default allow, and deny (EPERM) what a network lab node never needs: kexec, modules, reboot,
// keyrings, bpf, perf, userfaultfd, io_uring, mounts and new namespaces, clocks, raw I/O.
#include "netctl/runtime/seccomp.h"

namespace netctl::seccomp {

std::string_view defaultProfile() {
  return R"json({
 "defaultAction": "SCMP_ACT_ALLOW",
 "architectures": [
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X32"
 ],
 "syscalls": [
  {
   "names": [
    "_sysctl",
    "acct",
    "add_key",
    "adjtimex",
    "bpf",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_settime",
    "clock_settime64",
    "create_module",
    "delete_module",
    "fanotify_init",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_kernel_syms",
    "get_mempolicy",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioperm",
    "iopl",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mbind",
    "migrate_pages",
    "mount",
    "mount_setattr",
    "move_mount",
    "move_pages",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pidfd_getfd",
    "pivot_root",
    "query_module",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "set_mempolicy",
    "setns",
    "settimeofday",
    "stime",
    "swapoff",
    "swapon",
    "sysfs",
    "syslog",
    "umount",
    "umount2",
    "unshare",
    "uselib",
    "userfaultfd",
    "ustat",
    "vhangup",
    "vm86",
    "vm86old"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 1
  },
  {
   "names": [
    "clone"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 1,
   "args": [
    {
     "index": 0,
     "value": 131072,
     "valueTwo": 131072,
     "op": "SCMP_CMP_MASKED_EQ"
    }
   ]
  },
  {
   "names": [
    "clone"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 1,
   "args": [
    {
     "index": 0,
     "value": 33554432,
     "valueTwo": 33554432,
     "op": "SCMP_CMP_MASKED_EQ"
    }
   ]
  },
  {
   "names": [
    "clone"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 1,
   "args": [
    {
     "index": 0,
     "value": 67108864,
     "valueTwo": 67108864,
     "op": "SCMP_CMP_MASKED_EQ"
    }
   ]
  },
  {
   "names": [
    "clone"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 1,
   "args": [
    {
     "index": 0,
     "value": 134217728,
     "valueTwo": 134217728,
     "op": "SCMP_CMP_MASKED_EQ"
    }
   ]
  },
  {
   "names": [
    "clone"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 1,
   "args": [
    {
     "index": 0,
     "value": 268435456,
     "valueTwo": 268435456,
     "op": "SCMP_CMP_MASKED_EQ"
    }
   ]
  },
  {
   "names": [
    "clone"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 1,
   "args": [
    {
     "index": 0,
     "value": 536870912,
     "valueTwo": 536870912,
     "op": "SCMP_CMP_MASKED_EQ"
    }
   ]
  },
  {
   "names": [
    "clone"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 1,
   "args": [
    {
     "index": 0,
     "value": 1073741824,
     "valueTwo": 1073741824,
     "op": "SCMP_CMP_MASKED_EQ"
    }
   ]
  },
  {
   "names": [
    "clone3"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 38
  },
  {
   "names": [
    "socket"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 97,
   "args": [
    {
     "index": 0,
     "value": 38,
     "valueTwo": 0,
     "op": "SCMP_CMP_EQ"
    }
   ]
  },
  {
   "names": [
    "socket"
   ],
   "action": "SCMP_ACT_ERRNO",
   "errnoRet": 97,
   "args": [
    {
     "index": 0,
     "value": 40,
     "valueTwo": 0,
     "op": "SCMP_CMP_EQ"
    }
   ]
  }
 ]
}
)json";
}

}  // namespace netctl::seccomp
