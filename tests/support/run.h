// Running a program from a test and capturing what it printed: the netctl binary in e2e
// tests, and `ip`/`nft` to read kernel state independently of netctl.
#pragma once

#include <string>
#include <vector>

namespace netctl::testing {

struct Output {
  int exitCode = -1;
  std::string out;
  std::string err;
};

// Runs argv (argv[0] looked up in PATH) with stdin from /dev/null, and waits for it.
Output run(const std::vector<std::string>& argv);
// run() with extra environment variables (added to the test's own) and `input` on stdin: how
// a CNI runtime calls a plugin.
Output runWith(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::string& input);
// run() with the netctl binary under test as argv[0].
Output netctl(const std::vector<std::string>& args);

}  // namespace netctl::testing
