// nfnetlink plumbing of the NAT engine: a socket opened inside a netns, transaction batches
// checked against the ruleset generation, and dumps. Internal to src/net/nft.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/net/netns.h"

namespace netctl::nft {

class Socket {
 public:
  // Opens a NETLINK_NETFILTER socket inside ns (the socket stays bound to ns).
  static Result<Socket> open(const netns::Handle& ns);
  Socket() = default;
  Socket(Socket&& o) noexcept;
  Socket& operator=(Socket&& o) noexcept;
  ~Socket();

  uint32_t nextSeq() { return seq_++; }
  void advanceSeq(uint32_t s) { if (s > seq_) seq_ = s; }
  uint32_t portId() const { return portid_; }
  // The ruleset generation (NFT_MSG_GETGEN).
  Result<uint32_t> generation();
  // Sends one buffer of netlink messages; the kernel handles a batch synchronously inside
  // sendmsg, so every error is queued when it returns. Returns the first error, with the
  // description of the failing message (by sequence number) and the kernel's extended ack.
  // onReply sees every other reply (e.g. NLM_F_ECHO copies of new rules, with their handles).
  Result<void> sendBatch(const std::vector<char>& buf, size_t len,
                         const std::function<std::string(uint32_t seq)>& describe,
                         const std::function<void(const nlmsghdr*)>& onReply = {});
  // Sends a request and calls cb for every reply until the dump ends (or the single reply of
  // a non-dump request arrives).
  Result<void> request(const nlmsghdr* req, const std::function<int(const nlmsghdr*)>& cb);

 private:
  explicit Socket(mnl_socket* s);
  Result<void> ensureSndBuf(size_t len);
  mnl_socket* sock_ = nullptr;
  uint32_t portid_ = 0;
  uint32_t seq_ = 1;
  size_t sndbuf_ = 0;
};

// One nf_tables transaction being built: BATCH_BEGIN (with the generation id), messages,
// BATCH_END. Messages are built in place in a growing buffer.
class Batch {
 public:
  Batch(uint32_t firstSeq, uint32_t genid);
  // Starts a message of at most maxLen bytes; fill it, then call end().
  nlmsghdr* begin(uint16_t type, uint16_t family, uint16_t flags, size_t maxLen = 4096);
  void end(nlmsghdr* nlh, std::string what = {});
  // Closes the batch; returns the buffer and its length.
  void finish();
  const std::vector<char>& buffer() const { return buf_; }
  size_t size() const { return used_; }
  uint32_t nextSeq() const { return seq_; }
  size_t messages() const { return count_; }
  std::string describe(uint32_t seq) const;

 private:
  std::vector<char> buf_;
  size_t used_ = 0;
  uint32_t seq_;
  size_t count_ = 0;
  std::vector<std::pair<uint32_t, std::string>> what_;
};

// Runs fill() into a generation-checked batch and commits it; when someone else changed the
// ruleset in between (ERESTART), reads the generation again and retries, a few times.
Result<void> commit(Socket& sock, const std::function<Result<void>(Batch&)>& fill,
                    const std::function<void(const nlmsghdr*)>& onReply = {});

}  // namespace netctl::nft
