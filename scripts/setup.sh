#!/usr/bin/env bash
# Installs what berth needs on a Debian 12 machine, as root, idempotently: Debian packages,
# npm dependencies (better-sqlite3 is compiled from source), and the TypeScript build.
# Quick when everything is already there: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

# Debian packages berth uses at run time and in tests.
#   busybox-static  the offline base image      skopeo   reads/writes our archives in tests
#   curl            the demo asks the tutorial's app over published ports
#   attr            setfattr/getfattr (overlay whiteouts, opaque dirs)
#   runc conmon containernetworking-plugins     containers and networks (later issues)
#   docker-registry apache2-utils openssl       a real registry in tests (htpasswd, token-server keys)
#   tini procps util-linux                      run --init, top (ps), mount/umount
#   time                                        GNU time: peak RSS in `npm run bench`
#   aardvark-dns iptables iproute2              container DNS on user networks, portmap/bridge rules, ip link
#   nftables                                    nft: port 53 of a user network's gateway to the current DNS server
#   bzip2 xz-utils                              ADD of .tar.bz2/.tar.xz archives in builds
#   python3-docker python3-pytest               docker-py (5.0.3) driving berth serve in tests
#   chromium                                    the web view's end-to-end test (playwright-core drives it;
#                                               no browser is downloaded)
#   docker-compose                              docker-compose 1.29 driving berth serve in tests
# Docker and Podman are not installed here: only `npm run bench -- --peers` installs them
# (scripts/bench-peers.sh), and no test uses them.
PACKAGES=(busybox-static curl skopeo attr runc conmon containernetworking-plugins aardvark-dns iptables iproute2 nftables docker-registry apache2-utils openssl tini procps util-linux time bzip2 xz-utils python3-docker python3-pytest chromium docker-compose)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]} (run as root to install them)"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies: install when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  # `npm install`, not `npm ci`: node-unix-socket lists prebuilt packages for other platforms as
  # optional dependencies that this registry does not carry, and `npm ci` refuses a lockfile
  # without them. With the lockfile present, `npm install` installs exactly what it pins.
  npm install --no-audit --no-fund --loglevel=error
fi
# better-sqlite3 is a native addon: make sure it loads (npm may have skipped its build script).
if ! node -e "new (require('better-sqlite3'))(':memory:').close()" >/dev/null 2>&1; then
  log "building better-sqlite3 from source (about a minute)"
  npm rebuild better-sqlite3 --loglevel=error
fi

# The build: when dist/ is missing or any source is newer than the last build.
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src test scripts bench tsconfig.json package.json -newer "$stamp" \( -name '*.ts' -o -name '*.cts' -o -name '*.json' \) -print -quit 2>/dev/null)" ]; then
  log "building"
  rm -rf dist
  npx tsc -p tsconfig.json
  touch "$stamp"
fi
# The bundle bin/berth starts from (it falls back to the modules when the bundle is older).
# (and the web view's files, dist/ui/, when its sources are newer).
if [ ! -f dist/src/bin/berth.bundle.cjs ] || [ dist/src/bin/berth.js -nt dist/src/bin/berth.bundle.cjs ] ||
  [ ! -f dist/ui/app.js ] || [ -n "$(find src/ui/page -newer dist/ui/app.js -print -quit)" ]; then
  log "bundling the CLI"
  bash scripts/bundle.sh
fi
