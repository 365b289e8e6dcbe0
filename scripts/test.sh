#!/usr/bin/env bash
# Runs every test (unit tests beside the sources, integration tests under test/) on the compiled
# output with Node's built-in runner. `npm test` runs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find dist -name '*.test.js' | sort)
exec node --test --test-concurrency="${BERTH_TEST_CONCURRENCY:-2}" "${files[@]}"
