#include "netctl/base/result.h"

#include <cstring>

namespace netctl {

std::string Error::what() const {
  std::string out;
  for (const auto& c : contexts_) {
    out += c;
    out += ": ";
  }
  out += message_;
  if (errnum_ != 0) out += fmt::format(": {} ({})", std::strerror(errnum_), errnoName(errnum_));
  return out;
}

std::unexpected<Error> errnoError(std::string message) { return sysError(errno, std::move(message)); }

std::unexpected<Error> sysError(int errnum, std::string message) {
  return std::unexpected(Error(kindForErrno(errnum), errnum, std::move(message)));
}
std::unexpected<Error> invalidInput(std::string message) {
  return std::unexpected(Error(Error::Kind::kInvalidInput, 0, std::move(message)));
}
std::unexpected<Error> unsupported(std::string message) {
  return std::unexpected(Error(Error::Kind::kUnsupported, 0, std::move(message)));
}
std::unexpected<Error> notFound(std::string message) {
  return std::unexpected(Error(Error::Kind::kNotFound, 0, std::move(message)));
}
std::unexpected<Error> conflict(std::string message) {
  return std::unexpected(Error(Error::Kind::kConflict, 0, std::move(message)));
}

Error::Kind kindForErrno(int errnum) {
  switch (errnum) {
    case ENOENT:
    case ENODEV:
    case ESRCH:
      return Error::Kind::kNotFound;
    case EEXIST:
    case EADDRINUSE:
    case EBUSY:
      return Error::Kind::kConflict;
    case EOPNOTSUPP:
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
      return Error::Kind::kUnsupported;
    default:
      return Error::Kind::kSystem;
  }
}

const char* errnoName(int errnum) {
  // strerrorname_np is glibc >= 2.32 (Debian 12 has 2.36).
  const char* name = strerrorname_np(errnum);
  return name ? name : "E?";
}

}  // namespace netctl
