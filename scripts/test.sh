#!/usr/bin/env bash
# Runs every test (unit tests beside the sources, integration tests under test/) on the compiled
# output with Node's built-in runner. `npm test` runs scripts/setup.sh first.
# A skipped test is not a pass: the run fails when any test was skipped (every part a test needs
# is installed by setup on this machine kind, so a skip means something is missing).
#
# Then CLI suites run a second time in remote mode (BERTH_TEST_REMOTE=1): the harness starts a
# `berth serve` on each test store and every `berth` call goes through it with `-H unix://…`, with
# the same assertions (the berth CLI as a client of the Docker API, src/client/). These suites
# cover containers, images, volumes, exec and container files through the API's streams (attach
# and exec hijacks, logs framing, load progress, save/load/import bodies, archive with its stat
# header), the tutorial, networking and published ports, builds (the engine's build events through
# POST /build, cache explanations, refusals), push and pull with X-Registry-Auth and their
# progress, signal proxying (the client forwards what it receives through POST
# /containers/{id}/kill, as the docker CLI), several stores' networks side by side, kube, analyze
# and DNS, piped stdin, the run environment, filters and exit codes, messages and argument errors,
# system commands, the data-loss hints, log drivers, healthchecks, update, events and the web
# view; together they keep the run well under 30 minutes. Where a test kills the CLI, in remote
# mode the process killed is the client: the build test then expects the server to cancel the
# build, the registry and pull-resume tests the server to cancel the push or pull (keeping the
# partial download), the network test the next command to find what the server made. Where a test
# kills the health supervisor, remotely that is the server (serve hosts it): the harness starts a
# new one and health carries on. Where a test opens a store with other network settings
# (stores-network's bridge and subnet), remotely the harness restarts the store's server with
# them: they are the engine's, as dockerd's --bip, and a client's environment never reaches the
# server. Not (yet) twice:
#   - chaos, store-safety, leases, concurrency: they kill CLI processes with SIGKILL to test the
#     store's own crash safety; through a server the process killed is a client and the store's
#     writer is the server, which serve.test.ts kills instead;
#   - serve, docker-cli, docker-api-images, dockerode, docker-py, docker-compose, testcontainers,
#     api-containers: they already drive berth serve with Docker's clients, not the berth CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
REMOTE_SUITES=(containers images volumes exec archive container-files tutorial network build
  stdin run-environment filters-exit messages cli-args system hints logging health update events ui
  registry registry-auth pull-resume publish-update build-cache-explain build-refusals analyze kube
  node-image dns signals stores-network)

tap="$(mktemp -t berth-test-XXXXXX.tap)"
trap 'rm -f "$tap"' EXIT
status=0

# run_tests FILE... : one run of the runner; fails the script on a failure or a skip. No file
# waits without a bound: the runner cancels (and fails) a test file still running after
# BERTH_TEST_FILE_TIMEOUT ms (Node 20 applies --test-timeout to each file as well as each test;
# the longest file takes a few minutes), so a hang costs one file, not the whole run.
run_tests() {
  local st=0
  node --test --test-concurrency="${BERTH_TEST_CONCURRENCY:-2}" \
    --test-timeout="${BERTH_TEST_FILE_TIMEOUT:-900000}" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "$@" || st=$?
  local skipped
  skipped="$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap" | tail -1)"
  if [ "${skipped:-0}" != "0" ]; then
    echo "test.sh: ${skipped} test(s) skipped; a skipped test is not a pass:" >&2
    grep -E '# SKIP' "$tap" | sed 's/^ */  /' >&2 || true
    [ "$st" = 0 ] && st=1
  fi
  [ "$st" = 0 ] || status=$st
}

mapfile -t files < <(find dist -name '*.test.js' | sort)
run_tests "${files[@]}"

remote=()
for s in "${REMOTE_SUITES[@]}"; do remote+=("dist/test/integration/$s.test.js"); done
echo "test.sh: the CLI suites again in remote mode (berth -H against berth serve)"
BERTH_TEST_REMOTE=1 run_tests "${remote[@]}"
exit "$status"
