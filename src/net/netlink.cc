#include "netctl/net/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace netctl::nl {
namespace {

// Replies are read in this size: the kernel caps dump messages at 32 KiB. Allocated per call,
// not per socket, so that a cache of a thousand sockets does not hold a thousand buffers.
constexpr size_t kRecvSize = 32 * 1024;
// Requests per sendmsg. Every ack of a batch lands in the receive buffer before sendmsg
// returns, so the batch is bounded well below the receive buffer (echoed links are ~2 KiB).
constexpr size_t kBatchMessages = 64;
constexpr size_t kBatchBytes = 64 * 1024;
constexpr int kRecvBuffer = 4 * 1024 * 1024;
constexpr int kDumpRetries = 5;

std::string extackOf(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  size_t offset = sizeof(nlmsgerr);
  // Without NLM_F_CAPPED the whole request is quoted before the TLVs.
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  size_t payloadLen = mnl_nlmsg_get_payload_len(nlh);
  if (offset >= payloadLen) return {};
  std::string out;
  const char* base = static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + offset;
  mnl_attr_parse_payload(
      base, payloadLen - offset,
      [](const nlattr* attr, void* data) {
        if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
          *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
        return MNL_CB_OK;
      },
      &out);
  return out;
}

}  // namespace

Message::Message(uint16_t type, uint16_t flags) : buf_(new char[kCapacity]) {
  std::memset(buf_.get(), 0, sizeof(nlmsghdr));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.get());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
}

void* Message::putExtra(size_t size) { return mnl_nlmsg_put_extra_header(header(), size); }

// The messages we build are a few hundred bytes; the _check variants turn a logic error
// (overflow) into a dropped attribute that the kernel then reports, never into a memory error.
void Message::putU8(uint16_t type, uint8_t v) { mnl_attr_put_u8_check(header(), kCapacity, type, v); }
void Message::putU16(uint16_t type, uint16_t v) { mnl_attr_put_u16_check(header(), kCapacity, type, v); }
void Message::putU16Be(uint16_t type, uint16_t v) { mnl_attr_put_u16_check(header(), kCapacity, type, htons(v)); }
void Message::putU32(uint16_t type, uint32_t v) { mnl_attr_put_u32_check(header(), kCapacity, type, v); }
void Message::putU32Be(uint16_t type, uint32_t v) { mnl_attr_put_u32_check(header(), kCapacity, type, htonl(v)); }
void Message::putString(uint16_t type, std::string_view v) {
  std::string s(v);
  mnl_attr_put_strz_check(header(), kCapacity, type, s.c_str());
}
void Message::putBytes(uint16_t type, const void* data, size_t size) {
  mnl_attr_put_check(header(), kCapacity, type, size, data);
}
nlattr* Message::nestStart(uint16_t type) { return mnl_attr_nest_start_check(header(), kCapacity, type); }
void Message::nestEnd(nlattr* nest) {
  if (nest) mnl_attr_nest_end(header(), nest);
}

Error toError(const Status& s, std::string what) {
  if (!s.extack.empty()) what += ": " + s.extack;
  return Error(kindForErrno(s.errnum), s.errnum, std::move(what));
}

Socket::Socket(mnl_socket* s, std::string netnsName, ino_t inode)
    : sock_(s), portid_(mnl_socket_get_portid(s)), netnsName_(std::move(netnsName)), netnsInode_(inode) {}

Socket::Socket(Socket&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)), portid_(o.portid_), seq_(o.seq_), netnsName_(std::move(o.netnsName_)),
      netnsInode_(o.netnsInode_) {}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    if (sock_) mnl_socket_close(sock_);
    sock_ = std::exchange(o.sock_, nullptr);
    portid_ = o.portid_;
    seq_ = o.seq_;
    netnsName_ = std::move(o.netnsName_);
    netnsInode_ = o.netnsInode_;
  }
  return *this;
}

Socket::~Socket() {
  if (sock_) mnl_socket_close(sock_);
}

Result<Socket> Socket::open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!s) return errnoError("opening a netlink socket");
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) != 0) {
    auto err = errnoError("binding a netlink socket");
    mnl_socket_close(s);
    return err;
  }
  int on = 1;
  int fd = mnl_socket_get_fd(s);
  // Extended acks give the kernel's reason in words; capped acks keep batches' acks small.
  // Both are best effort: old kernels lack them and we still get the errno.
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  int size = kRecvBuffer;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  auto here = netns::current();
  ino_t inode = here ? here->inode().value_or(0) : 0;
  return Socket(s, "current", inode);
}

Result<Socket> Socket::openIn(const netns::Handle& ns) {
  auto s = NETCTL_TRYC(netns::runIn(ns, [] { return open(); }), "opening a netlink socket in netns {}", ns.name());
  s.netnsName_ = ns.name();
  return s;
}

void Socket::exchange(std::span<Message* const> ms, size_t begin, size_t end, std::vector<Status>& out,
                      const ReplyHandler& onReply, bool* interrupted) {
  // Pack the messages into one buffer: one sendmsg, one trip into the kernel.
  std::vector<char> batch;
  uint32_t firstSeq = seq_ + 1;
  for (size_t i = begin; i < end; ++i) {
    nlmsghdr* nlh = ms[i]->header();
    nlh->nlmsg_seq = ++seq_;
    nlh->nlmsg_pid = 0;
    nlh->nlmsg_flags |= NLM_F_ACK;
    const char* p = reinterpret_cast<const char*>(nlh);
    batch.insert(batch.end(), p, p + NLMSG_ALIGN(nlh->nlmsg_len));
  }
  auto failAll = [&](int errnum, const char* why) {
    for (size_t i = begin; i < end; ++i)
      if (out[i].errnum == 0 && out[i].extack.empty()) out[i] = Status{errnum, why};
  };
  if (mnl_socket_sendto(sock_, batch.data(), batch.size()) < 0) return failAll(errno, "sending to netlink");

  std::unique_ptr<char[]> rbuf(new char[kRecvSize]);
  size_t pending = end - begin;
  std::vector<bool> done(end - begin, false);
  while (pending > 0) {
    ssize_t n = mnl_socket_recvfrom(sock_, rbuf.get(), kRecvSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      // ENOBUFS: replies were dropped; the requests' outcome is unknown.
      return failAll(errno, "receiving from netlink");
    }
    auto* nlh = reinterpret_cast<const nlmsghdr*>(rbuf.get());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_pid != portid_ || nlh->nlmsg_seq < firstSeq || nlh->nlmsg_seq > seq_) continue;  // stale
      size_t idx = begin + (nlh->nlmsg_seq - firstSeq);
      if (done[idx - begin]) continue;
      if (interrupted && (nlh->nlmsg_flags & NLM_F_DUMP_INTR)) *interrupted = true;
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        out[idx] = Status{-err->error, err->error ? extackOf(nlh) : std::string()};
        done[idx - begin] = true;
        --pending;
      } else if (nlh->nlmsg_type == NLMSG_DONE) {
        // A dump's end; it may carry an error (then with extack TLVs like an ack).
        int err = 0;
        if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof err);
        out[idx] = Status{-err, {}};
        done[idx - begin] = true;
        --pending;
      } else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && onReply) {
        onReply(idx, nlh);
      }
    }
  }
}

std::vector<Status> Socket::transactAll(std::span<Message* const> ms, const ReplyHandler& onReply) {
  std::vector<Status> out(ms.size());
  size_t begin = 0;
  while (begin < ms.size()) {
    size_t end = begin, bytes = 0;
    while (end < ms.size() && end - begin < kBatchMessages &&
           (end == begin || bytes + ms[end]->header()->nlmsg_len <= kBatchBytes)) {
      bytes += NLMSG_ALIGN(ms[end]->header()->nlmsg_len);
      ++end;
    }
    exchange(ms, begin, end, out, onReply, nullptr);
    begin = end;
  }
  return out;
}

Status Socket::transact(Message& m, const ReplyHandler& onReply) {
  Message* one[] = {&m};
  std::vector<Status> out(1);
  exchange(one, 0, 1, out, onReply, nullptr);
  return std::move(out[0]);
}

Result<void> Socket::request(Message& m, std::string_view what, const ReplyHandler& onReply) {
  Status s = transact(m, onReply);
  if (!s.ok()) return std::unexpected(toError(s, std::string(what)));
  return {};
}

Result<void> Socket::dump(Message& m, std::string_view what, const std::function<void()>& restart,
                          const std::function<void(const nlmsghdr*)>& each) {
  m.header()->nlmsg_flags |= NLM_F_DUMP;
  Message* one[] = {&m};
  for (int attempt = 0;; ++attempt) {
    std::vector<Status> out(1);
    bool interrupted = false;
    exchange(one, 0, 1, out, [&](size_t, const nlmsghdr* nlh) { each(nlh); }, &interrupted);
    if (!out[0].ok()) return std::unexpected(toError(out[0], std::string(what)));
    if (!interrupted) return {};
    // Links changed while the kernel walked them: the entries may be inconsistent.
    if (attempt + 1 >= kDumpRetries)
      return std::unexpected(Error(Error::Kind::kSystem, EINTR, fmt::format("{}: interrupted {} times by concurrent changes", what, kDumpRetries)));
    if (restart) restart();
  }
}

Result<Socket*> SocketCache::get(const netns::Handle& ns) {
  ino_t key = NETCTL_TRY(ns.inode());
  auto it = sockets_.find(key);
  if (it != sockets_.end()) return &it->second;
  auto s = NETCTL_TRY(Socket::openIn(ns));
  return &sockets_.emplace(key, std::move(s)).first->second;
}

Result<Socket*> SocketCache::current() {
  auto here = NETCTL_TRY(netns::current());
  return get(here);
}

void SocketCache::forget(const netns::Handle& ns) {
  if (auto key = ns.inode()) sockets_.erase(*key);
}

}  // namespace netctl::nl
