#include "netctl/topology/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include "netctl/base/fs.h"

namespace netctl::journal {

Result<Writer> Writer::open(const std::string& path) {
  auto fd = NETCTL_TRYC(fs::open(path, O_WRONLY | O_CREAT | O_APPEND, 0600), "opening journal");
  return Writer(std::move(fd), path);
}

Result<void> Writer::record(std::span<const Entry> entries) {
  std::string lines;
  for (const auto& e : entries) {
    lines += nlohmann::json{{"kind", e.kind}, {"id", e.id}, {"data", e.data}}.dump();
    lines += '\n';
  }
  std::lock_guard lock(mutex_);
  // O_APPEND makes each write land at the end as a whole; loop only for a short write.
  std::string_view rest = lines;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError(fmt::format("writing journal {}", path_));
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::fdatasync(fd_.get()) != 0) return errnoError(fmt::format("syncing journal {}", path_));
  return {};
}

Result<std::vector<Entry>> read(const std::string& path) {
  std::vector<Entry> entries;
  if (!fs::exists(path)) return entries;
  auto text = NETCTL_TRYC(fs::readFile(path), "reading journal");
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // torn tail: the object was never created
    auto line = std::string_view(text).substr(start, end - start);
    start = end + 1;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("kind") || !j["kind"].is_string() ||
        !j.contains("id") || !j["id"].is_string())
      return sysError(EBADMSG, fmt::format("journal {}: unreadable entry \"{}\"", path, line));
    entries.push_back({j["kind"].get<std::string>(), j["id"].get<std::string>(),
                       j.value("data", nlohmann::json::object())});
  }
  return entries;
}

}  // namespace netctl::journal
