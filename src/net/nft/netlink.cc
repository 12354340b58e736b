#include "netlink.h"

#include <arpa/inet.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

namespace netctl::nft {
namespace {

constexpr int kRetries = 8;

// Extended-ack text of an NLMSG_ERROR, if the kernel sent one.
std::string extAckMessage(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  size_t offset = sizeof(nlmsghdr) + sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  if (offset >= nlh->nlmsg_len) return {};
  auto* attr = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(nlh) + offset);
  int remaining = int(nlh->nlmsg_len - offset);
  while (mnl_attr_ok(attr, remaining)) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG) return mnl_attr_get_str(attr);
    remaining -= int(MNL_ALIGN(attr->nla_len));
    attr = mnl_attr_next(attr);
  }
  return {};
}

}  // namespace

Socket::Socket(mnl_socket* s) : sock_(s), portid_(mnl_socket_get_portid(s)) {}
Socket::Socket(Socket&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)), portid_(o.portid_), seq_(o.seq_), sndbuf_(o.sndbuf_) {}
Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    if (sock_) mnl_socket_close(sock_);
    sock_ = std::exchange(o.sock_, nullptr);
    portid_ = o.portid_;
    seq_ = o.seq_;
    sndbuf_ = o.sndbuf_;
  }
  return *this;
}
Socket::~Socket() {
  if (sock_) mnl_socket_close(sock_);
}

Result<Socket> Socket::open(const netns::Handle& ns) {
  return netns::runIn(ns, [&]() -> Result<Socket> {
    mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!s) return errnoError("opening nfnetlink socket");
    Socket sock(s);
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) return errnoError("binding nfnetlink socket");
    sock.portid_ = mnl_socket_get_portid(s);
    int one = 1;
    // Extended acks say which attribute the kernel disliked; capped acks keep errors small.
    mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof one);
    int rcv = 4 << 20;
    if (::setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
      ::setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    return sock;
  });
}

Result<void> Socket::ensureSndBuf(size_t len) {
  // netlink refuses a message larger than the send buffer (EMSGSIZE).
  if (len + 4096 <= sndbuf_) return {};
  size_t want = std::max<size_t>(len * 2, 1 << 20);
  int v = int(std::min<size_t>(want, 1u << 30));
  if (::setsockopt(mnl_socket_get_fd(sock_), SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) < 0)
    return errnoError("raising the nfnetlink send buffer");
  sndbuf_ = size_t(v);
  return {};
}

Result<uint32_t> Socket::generation() {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, nextSeq());
  uint32_t gen = 0;
  bool found = false;
  NETCTL_TRYC(request(nlh, [&](const nlmsghdr* reply) {
                nftnl_gen* g = nftnl_gen_alloc();
                if (nftnl_gen_nlmsg_parse(reply, g) == 0) {
                  gen = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
                  found = true;
                }
                nftnl_gen_free(g);
                return MNL_CB_STOP;
              }),
              "reading the nftables generation");
  if (!found) return sysError(EPROTO, "reading the nftables generation: no NEWGEN reply");
  return gen;
}

Result<void> Socket::request(const nlmsghdr* req,
                             const std::function<int(const nlmsghdr*)>& cb) {
  if (mnl_socket_sendto(sock_, req, req->nlmsg_len) < 0) return errnoError("sending netlink request");
  std::vector<char> buf(1 << 16);
  uint32_t seq = req->nlmsg_seq;
  bool dump = req->nlmsg_flags & NLM_F_DUMP, ack = req->nlmsg_flags & NLM_F_ACK;
  bool replied = false, stopped = false;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) return errnoError("reading netlink reply");
    int left = int(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      // Skip leftovers of earlier requests (e.g. an ack that came after the reply).
      if (nlh->nlmsg_seq != seq) continue;
      if (nlh->nlmsg_type == NLMSG_DONE) return {};
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (err->error == 0) return {};
        std::string ext = extAckMessage(nlh);
        return sysError(-err->error, ext.empty() ? "netlink request" : ext);
      }
      replied = true;
      if (!stopped && cb(nlh) <= MNL_CB_STOP) stopped = true;
    }
    // A dump ends with DONE, an acked request with its ack; otherwise one reply is all.
    if (!dump && !ack && replied) return {};
  }
}

Result<void> Socket::sendBatch(const std::vector<char>& buf, size_t len,
                               const std::function<std::string(uint32_t)>& describe,
                               const std::function<void(const nlmsghdr*)>& onReply) {
  NETCTL_TRY(ensureSndBuf(len));
  if (mnl_socket_sendto(sock_, buf.data(), len) < 0) return errnoError("sending nftables batch");
  // Nothing carries NLM_F_ACK: a successful batch answers nothing, a failed one queues one
  // error per failing message. Drain without blocking; report the first.
  std::vector<char> rbuf(1 << 16);
  std::optional<Error> first;
  for (;;) {
    ssize_t n = ::recv(mnl_socket_get_fd(sock_), rbuf.data(), rbuf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return errnoError("reading nftables batch result");
    }
    int left = int(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_type != NLMSG_ERROR) {
        if (onReply) onReply(nlh);
        continue;
      }
      auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error == 0 || first) continue;
      std::string ext = extAckMessage(nlh);
      std::string what = describe(err->msg.nlmsg_seq);
      Error e(kindForErrno(-err->error), -err->error, ext.empty() ? "kernel refused" : ext);
      if (!what.empty()) e.context(what);
      first = std::move(e);
    }
  }
  if (first) return std::unexpected(std::move(*first));
  return {};
}

Batch::Batch(uint32_t firstSeq, uint32_t genid) : buf_(1 << 16), seq_(firstSeq) {
  nlmsghdr* nlh = nftnl_batch_begin(buf_.data(), seq_++);
  // The kernel refuses the whole batch with ERESTART if the ruleset changed since genid.
  mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
  used_ = NLMSG_ALIGN(nlh->nlmsg_len);
}

nlmsghdr* Batch::begin(uint16_t type, uint16_t family, uint16_t flags, size_t maxLen) {
  if (used_ + maxLen + 64 > buf_.size()) buf_.resize(std::max(buf_.size() * 2, used_ + maxLen + 64));
  std::memset(buf_.data() + used_, 0, sizeof(nlmsghdr));
  return nftnl_nlmsg_build_hdr(buf_.data() + used_, type, uint16_t(family), flags, seq_++);
}

void Batch::end(nlmsghdr* nlh, std::string what) {
  if (!what.empty()) what_.emplace_back(nlh->nlmsg_seq, std::move(what));
  used_ += NLMSG_ALIGN(nlh->nlmsg_len);
  ++count_;
}

void Batch::finish() {
  if (used_ + 64 > buf_.size()) buf_.resize(used_ + 64);
  nlmsghdr* nlh = nftnl_batch_end(buf_.data() + used_, seq_++);
  used_ += NLMSG_ALIGN(nlh->nlmsg_len);
}

std::string Batch::describe(uint32_t seq) const {
  auto it = std::lower_bound(what_.begin(), what_.end(), seq,
                             [](const auto& p, uint32_t s) { return p.first < s; });
  if (it != what_.end() && it->first == seq) return it->second;
  return {};
}

Result<void> commit(Socket& sock, const std::function<Result<void>(Batch&)>& fill,
                    const std::function<void(const nlmsghdr*)>& onReply) {
  for (int attempt = 0;; ++attempt) {
    uint32_t gen = NETCTL_TRY(sock.generation());
    Batch batch(sock.nextSeq(), gen);
    NETCTL_TRY(fill(batch));
    batch.finish();
    // Keep the socket's sequence numbers ahead of the batch's.
    sock.advanceSeq(batch.nextSeq());
    auto sent = sock.sendBatch(batch.buffer(), batch.size(),
                               [&](uint32_t seq) { return batch.describe(seq); }, onReply);
    if (sent || sent.error().errnum() != ERESTART || attempt + 1 >= kRetries) return sent;
  }
}

}  // namespace netctl::nft
