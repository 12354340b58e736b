// The journal of a lab: every kernel object `up` creates is recorded here BEFORE it is created,
// so `down` after a crash, a kill or a power cut removes exactly what may exist. One JSON object
// per line, appended with a single write; a torn last line (a crash mid-write) is ignored.
#pragma once

#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"

namespace netctl::journal {

struct Entry {
  std::string kind;     // "netns", "link", "bridge", "container", "nat", "sysctl", ...
  std::string id;       // the object's name within its kind
  nlohmann::json data;  // whatever undoing it needs (the netns of a link, a previous value, ...)

  bool operator==(const Entry&) const = default;
};

class Writer {
 public:
  static Result<Writer> open(const std::string& path);
  Writer(Writer&& other) noexcept : fd_(std::move(other.fd_)), path_(std::move(other.path_)) {}

  // Appends entries in one write(2) and waits for them to reach the file (fdatasync), so
  // the object may be created once this returns. Safe to call from several threads.
  Result<void> record(std::span<const Entry> entries);
  Result<void> record(const Entry& entry) { return record(std::span(&entry, 1)); }
  const std::string& path() const { return path_; }

 private:
  Writer(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
  std::mutex mutex_;
};

// Reads every complete entry, oldest first. A missing file is an empty journal.
Result<std::vector<Entry>> read(const std::string& path);

}  // namespace netctl::journal
