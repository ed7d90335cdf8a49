#!/usr/bin/env bash
# The test command: install dependencies, build with -Werror, run every test
# (unit and integration) with ctest. Usage: deploy/test.sh [--asan]
#   --asan   build and test with AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
SAN=OFF BUILD=build-test
case "${1:-}" in
  --asan) SAN=ON BUILD=build-asan ;;
  -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
  "") ;;
  *) echo "test.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
esac
./deploy/install-deps.sh
cmake -S . -B "$BUILD" -DCCHC_WERROR=ON -DCCHC_SANITIZE=$SAN -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2
cd "$BUILD"
ctest --output-on-failure -j2
