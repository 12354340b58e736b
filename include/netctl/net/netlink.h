// rtnetlink sockets and messages, on libmnl.
//
// Why libmnl for the whole engine and not libnl-route-3 (3.7): libnl folds the kernel's errnos
// into ~30 NLE codes (a full bridge's EXFULL becomes "Unspecific failure"), never surfaces the
// kernel's extended-ack text, and lacks the bridge options (vlan_filtering, stp, ageing) and
// altnames we need, so half the engine would be raw messages anyway. With one raw layer every
// error carries the real errno and the kernel's own words, and several requests can share one
// sendmsg. Link creation cost is kernel work either way (~0.5 ms per veth pair).
//
// A Socket is bound to the network namespace it was opened in, for its whole life, and is not
// thread-safe: keep one per netns per thread (SocketCache does that).
#pragma once

#include <linux/netlink.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/net/netns.h"

struct mnl_socket;

namespace netctl::nl {

// One netlink request under construction. NLM_F_REQUEST is always set; the socket sets the
// sequence number and NLM_F_ACK when it sends the message.
class Message {
 public:
  static constexpr size_t kCapacity = 4096;
  Message(uint16_t type, uint16_t flags);
  Message(Message&&) = default;
  Message& operator=(Message&&) = default;

  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.get()); }
  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(buf_.get()); }
  // The protocol header (ifinfomsg, ifaddrmsg, rtmsg), zeroed; call once, before attributes.
  template <typename T>
  T* putHeader() {
    return static_cast<T*>(putExtra(sizeof(T)));
  }
  void putU8(uint16_t type, uint8_t v);
  void putU16(uint16_t type, uint16_t v);
  void putU16Be(uint16_t type, uint16_t v);  // ports
  void putU32(uint16_t type, uint32_t v);
  void putU32Be(uint16_t type, uint32_t v);
  void putString(uint16_t type, std::string_view v);  // NUL-terminated
  void putBytes(uint16_t type, const void* data, size_t size);
  nlattr* nestStart(uint16_t type);
  void nestEnd(nlattr* nest);

 private:
  void* putExtra(size_t size);
  std::unique_ptr<char[]> buf_;
};

// The kernel's answer to one request: 0 or an errno, and its extended-ack text if it gave one.
struct Status {
  int errnum = 0;
  std::string extack;
  bool ok() const { return errnum == 0; }
};

// An Error for a failed Status: kind from the errno, message "<what>" plus ": <extack>".
Error toError(const Status& s, std::string what);

// Called for every reply that is not an ack (echoed objects, GET answers, dump entries), with the
// index of the request it answers.
using ReplyHandler = std::function<void(size_t index, const nlmsghdr* reply)>;

class Socket {
 public:
  static Result<Socket> open();                          // in the calling thread's netns
  static Result<Socket> openIn(const netns::Handle& ns);  // in ns (enters and leaves it)
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  // For messages: the netns name it was opened in ("current" for the caller's own).
  const std::string& netnsName() const { return netnsName_; }
  ino_t netnsInode() const { return netnsInode_; }

  // Sends one request and waits for its ack.
  Status transact(Message& m, const ReplyHandler& onReply = {});
  // Sends many independent requests, packing as many as fit into each sendmsg, and returns
  // one Status per request (the kernel carries on after a failed one).
  std::vector<Status> transactAll(std::span<Message* const> ms, const ReplyHandler& onReply = {});
  // transact() with the failure turned into an Error about `what`.
  Result<void> request(Message& m, std::string_view what, const ReplyHandler& onReply = {});
  // Runs a dump request (NLM_F_DUMP is added) and calls each() per entry. When the kernel says
  // the dump was interrupted by a concurrent change, calls restart() and runs it again.
  Result<void> dump(Message& m, std::string_view what, const std::function<void()>& restart,
                    const std::function<void(const nlmsghdr*)>& each);

 private:
  Socket(mnl_socket* s, std::string netnsName, ino_t inode);
  // Sends ms[begin, end) in one sendmsg and reads until each has its ack (or DONE for dumps).
  void exchange(std::span<Message* const> ms, size_t begin, size_t end, std::vector<Status>& out,
                const ReplyHandler& onReply, bool* interrupted);

  mnl_socket* sock_ = nullptr;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  std::string netnsName_;
  ino_t netnsInode_ = 0;
};

// Sockets by network namespace, opened on first use. A cached socket keeps its netns alive (the
// kernel holds a reference), so the inode key stays unique; forget() a netns you remove. Each
// socket is one fd: a 1000-node lab needs RLIMIT_NOFILE above 1024 if it caches them all.
class SocketCache {
 public:
  Result<Socket*> get(const netns::Handle& ns);
  Result<Socket*> current();
  void forget(const netns::Handle& ns);
  void clear() { sockets_.clear(); }

 private:
  std::map<ino_t, Socket> sockets_;
};

}  // namespace netctl::nl
