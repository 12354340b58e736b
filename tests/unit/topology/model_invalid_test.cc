// The invalid corpus: every file in invalid/ starts with "# expect: LINE:COL: PATH: MESSAGE",
// and loading it must fail with exactly "<file>:LINE:COL: PATH: MESSAGE", kind kInvalidInput.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "netctl/topology/load.h"

namespace netctl::topology {
namespace {

const std::string kDir = std::string(NETCTL_SOURCE_DIR) + "/tests/unit/topology/invalid";

std::vector<std::string> corpus() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(kDir))
    if (e.path().extension() == ".yaml" || e.path().extension() == ".yml")
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Invalid, CorpusHasAtLeastThirtyFiles) { EXPECT_GE(corpus().size(), 30u); }

TEST(Invalid, EachFileFailsAtItsExpectedLocation) {
  LoadOptions opts;
  opts.getenv = [](const std::string&) { return std::nullopt; };
  for (const auto& file : corpus()) {
    std::ifstream in(file);
    std::string first;
    std::getline(in, first);
    const std::string tag = "# expect: ";
    ASSERT_TRUE(first.starts_with(tag)) << file << ": first line must be \"# expect: ...\"";
    std::string expected = file + ":" + first.substr(tag.size());
    auto r = loadFile(file, opts);
    if (r) {
      ADD_FAILURE() << file << ": loaded, expected " << expected;
      continue;
    }
    EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput) << file;
    EXPECT_EQ(r.error().what(), expected);
  }
}

}  // namespace
}  // namespace netctl::topology
