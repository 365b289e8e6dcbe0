#!/usr/bin/env bash
# Runs every test (unit tests beside the sources, integration tests under test/) on the compiled
# output with Node's built-in runner. `npm test` runs scripts/setup.sh first.
# A skipped test is not a pass: the run fails when any test was skipped (every part a test needs
# is installed by setup on this machine kind, so a skip means something is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find dist -name '*.test.js' | sort)
tap="$(mktemp -t berth-test-XXXXXX.tap)"
trap 'rm -f "$tap"' EXIT
status=0
node --test --test-concurrency="${BERTH_TEST_CONCURRENCY:-2}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "${files[@]}" || status=$?
skipped="$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap" | tail -1)"
if [ "${skipped:-0}" != "0" ]; then
  echo "test.sh: ${skipped} test(s) skipped; a skipped test is not a pass:" >&2
  grep -E '# SKIP' "$tap" | sed 's/^ */  /' >&2 || true
  [ "$status" = 0 ] && status=1
fi
exit "$status"
