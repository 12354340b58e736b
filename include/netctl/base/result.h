// The one error contract of netctl: every fallible function returns Result<T>.
//
// An Error carries the errno (0 when none applies), a kind that decides the exit code, the
// message of the innermost failure, and the context added while it travelled up, so the user
// reads one line: "up lab1: node r1: link eth1: creating veth: File exists (EEXIST)".
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace netctl {

class Error {
 public:
  enum class Kind {
    kSystem,       // a system call or the kernel refused
    kInvalidInput, // the user's input is wrong: exit code 2, nothing was created
    kUnsupported,  // the kernel or machine lacks a feature (tests skip with the reason)
    kNotFound,     // the object does not exist (often tolerated, e.g. by delete)
    kConflict,     // the object exists or collides with another one
  };

  Error(Kind kind, int errnum, std::string message)
      : kind_(kind), errnum_(errnum), message_(std::move(message)) {}

  Kind kind() const { return kind_; }
  int errnum() const { return errnum_; }
  const std::string& message() const { return message_; }
  const std::vector<std::string>& contexts() const { return contexts_; }

  // Adds an outer layer of context ("what we were doing"); the newest layer prints first.
  Error& context(std::string what) & {
    contexts_.insert(contexts_.begin(), std::move(what));
    return *this;
  }
  Error&& context(std::string what) && { return std::move(context(std::move(what))); }

  // "ctx1: ctx2: message: strerror (ENAME)".
  std::string what() const;

  // The exit code a command ends with for this error: 2 for invalid input, 1 otherwise.
  int exitCode() const { return kind_ == Kind::kInvalidInput ? 2 : 1; }

 private:
  Kind kind_;
  int errnum_;
  std::string message_;
  std::vector<std::string> contexts_;
};

template <typename T = void>
using Result = std::expected<T, Error>;

// Constructors for the common cases. errnoError reads errno at the call.
std::unexpected<Error> errnoError(std::string message);
std::unexpected<Error> sysError(int errnum, std::string message);
std::unexpected<Error> invalidInput(std::string message);
std::unexpected<Error> unsupported(std::string message);
std::unexpected<Error> notFound(std::string message);
std::unexpected<Error> conflict(std::string message);

// Adds a context layer to an error about to be returned: `return withContext(errnoError(..), ..)`.
inline std::unexpected<Error> withContext(std::unexpected<Error> e, std::string what) {
  e.error().context(std::move(what));
  return e;
}

// Kind for an errno returned by the kernel (ENOENT/ENODEV -> kNotFound, EEXIST -> kConflict,
// EOPNOTSUPP -> kUnsupported, anything else -> kSystem).
Error::Kind kindForErrno(int errnum);

// "EEXIST" for EEXIST; "E<n>" when unknown.
const char* errnoName(int errnum);

}  // namespace netctl

// NETCTL_TRY(expr): evaluates a Result; on error returns it from the enclosing function,
// otherwise yields the value (or nothing, for Result<void>).
#define NETCTL_TRY(...)                                                   \
  ({                                                                      \
    auto&& netctl_try_r_ = (__VA_ARGS__);                                 \
    if (!netctl_try_r_) return std::unexpected(std::move(netctl_try_r_).error()); \
    std::move(netctl_try_r_).value();                                     \
  })

// NETCTL_TRYC(expr, fmt, args...): as NETCTL_TRY, adding a formatted context layer on error.
// The context is formatted only when there is an error.
#define NETCTL_TRYC(expr, ...)                                            \
  ({                                                                      \
    auto&& netctl_try_r_ = (expr);                                        \
    if (!netctl_try_r_)                                                   \
      return std::unexpected(                                             \
          std::move(netctl_try_r_).error().context(fmt::format(__VA_ARGS__))); \
    std::move(netctl_try_r_).value();                                     \
  })
