#include "runtime/sync.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace netctl::runtime::sync {
namespace {

// Error wire format: 'E', errnum (int32), kind (uint8), then the texts joined by '\x1f',
// innermost message last.
constexpr char kSep = '\x1f';
constexpr size_t kMax = 8192;

}  // namespace

Result<Pair> makePair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) return errnoError("socketpair");
  Pair pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
  int one = 1;
  if (::setsockopt(pair.parent.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0)
    return errnoError("setting SO_PASSCRED");
  return pair;
}

Result<void> send(int fd, Msg msg, int passFd) {
  char byte = static_cast<char>(msg);
  iovec iov{&byte, 1};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (passFd >= 0) {
    hdr.msg_control = control;
    hdr.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&hdr);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &passFd, sizeof(int));
  }
  while (::sendmsg(fd, &hdr, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return errnoError("sending to the other side of the launcher");
  }
  return {};
}

Result<void> sendPid(int fd, pid_t pid) {
  char buf[1 + sizeof(int32_t)] = {static_cast<char>(Msg::kPid)};
  int32_t value = pid;
  std::memcpy(buf + 1, &value, sizeof value);
  while (::send(fd, buf, sizeof buf, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return errnoError("sending a pid to the other side");
  }
  return {};
}

void sendError(int fd, const Error& error) {
  std::string buf(1, static_cast<char>(Msg::kError));
  int32_t errnum = error.errnum();
  buf.append(reinterpret_cast<const char*>(&errnum), sizeof errnum);
  buf.push_back(static_cast<char>(error.kind()));
  for (const auto& c : error.contexts()) buf += c + kSep;
  buf += error.message();
  if (buf.size() > kMax) buf.resize(kMax);
  (void)::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
}

Result<Received> receive(int fd) {
  std::string buf(kMax, '\0');
  iovec iov{buf.data(), buf.size()};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int))];
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(fd, &hdr, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return errnoError("receiving from the other side of the launcher");
  }
  if (n == 0) return sysError(EPIPE, "the other side closed the channel");
  Received out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c; c = CMSG_NXTHDR(&hdr, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_CREDENTIALS) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      out.pid = cred.pid;
    } else if (c->cmsg_type == SCM_RIGHTS) {
      int passed;
      std::memcpy(&passed, CMSG_DATA(c), sizeof passed);
      out.fd.reset(passed);
    }
  }
  buf.resize(static_cast<size_t>(n));
  out.msg = static_cast<Msg>(buf[0]);
  if (out.msg == Msg::kPid) {
    if (buf.size() != 1 + sizeof(int32_t)) return sysError(EPROTO, "a truncated pid from the spawner");
    int32_t value;
    std::memcpy(&value, buf.data() + 1, sizeof value);
    out.sentPid = value;
  }
  if (out.msg == Msg::kError) {
    if (buf.size() < 6) return sysError(EPROTO, "a truncated error from the child");
    int32_t errnum;
    std::memcpy(&errnum, buf.data() + 1, sizeof errnum);
    auto kind = static_cast<Error::Kind>(buf[5]);
    std::string rest = buf.substr(6);
    std::vector<std::string> parts;
    for (size_t pos = 0;;) {
      size_t next = rest.find(kSep, pos);
      parts.push_back(rest.substr(pos, next == std::string::npos ? next : next - pos));
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    Error error(kind, errnum, parts.back());
    for (size_t i = parts.size() - 1; i-- > 0;) error.context(parts[i]);
    out.error = std::move(error);
  }
  return out;
}

}  // namespace netctl::runtime::sync
