#!/usr/bin/env bash
# The whole test suite: unit, integration and e2e tests, then the same again under ASan+UBSan.
# Kernel tests run inside their own sandbox (tests/support/sandbox.h); a snapshot of the machine
# taken before and after must be identical, or the run fails.
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    the plain build only, no sanitizers
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh

jobs=$(nproc)
quick=0
[ "${1:-}" = "--quick" ] && quick=1

before=$(mktemp); after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
./scripts/leakcheck.sh > "$before"

run_suite() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 600
}

echo "== tests (plain build)"
run_suite build/test
if [ $quick -eq 0 ]; then
  echo "== tests (ASan + UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build/asan -DNETCTL_SANITIZE=ON -DNETCTL_BENCH=OFF
fi

./scripts/leakcheck.sh > "$after"
if ! diff -u "$before" "$after"; then
  echo "leak check: the suite left the objects above on the machine" >&2
  exit 1
fi
echo "leak check: the machine is as it was"
