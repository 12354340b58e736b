// main() of every integration and e2e test binary: enter the sandbox, then run the tests.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/sandbox.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // Listing tests (ctest discovery) needs no sandbox.
  if (GTEST_FLAG_GET(list_tests)) return RUN_ALL_TESTS();
  auto entered = netctl::sandbox::enter();
  if (!entered) {
    std::fprintf(stderr, "sandbox: %s\n", entered.error().what().c_str());
    return 1;
  }
  int rc = RUN_ALL_TESTS();
  netctl::sandbox::leave();
  return rc;
}
