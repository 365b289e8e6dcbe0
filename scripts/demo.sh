#!/usr/bin/env bash
# `npm run demo`: a walk through what berth does today, following the tutorial the project was
# created from (npm runs scripts/setup.sh first). It uses berth's default store (/var/lib/berth,
# or BERTH_ROOT) like a user would, and removes what it creates.
set -euo pipefail
cd "$(dirname "$0")/.."
berth() { ./bin/berth "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Prints the command as a user would type it (quoting arguments with spaces), then runs it.
run() {
  local line="$ berth" a
  for a in "$@"; do
    case "$a" in *[[:space:]]*) line+=" '$a'" ;; *) line+=" $a" ;; esac
  done
  printf '%s\n' "$line"
  berth "$@"
}
tmp=$(mktemp -d)
cleanup() {
  berth rm -f my-app-prod my-app-dev my-app-staging my-app-test demo-volume-writer >/dev/null 2>&1 || true
  berth rmi my-base:v1.0 >/dev/null 2>&1 || true
  berth volume rm demo-app-data >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

say "A base image, made offline from Debian's busybox-static and imported as busybox:latest"
node dist/scripts/busybox-image.js >/dev/null
run images busybox

say "An image is a read-only, layered template: its history and its configuration"
run history busybox
run image inspect --format '{{.Id}}  layers={{len .RootFS.Layers}}  cmd={{json .Config.Cmd}}  {{.Os}}/{{.Architecture}}' busybox

say "A container is a running instance: four of them from the same image, side by side"
for name in my-app-prod my-app-dev my-app-staging my-app-test; do
  run run -d --name "$name" busybox sh -c "echo hello from \$(hostname); while true; do sleep 1; done" >/dev/null
done
run ps --format "table {{.Names}}\t{{.Image}}\t{{.Status}}"
printf 'each has its own hostname, process space and writable layer:\n'
for name in my-app-prod my-app-dev; do run logs "$name"; done
run exec my-app-prod sh -c 'echo "temporary data" > /tmp/myfile.txt; ps'
run ps -s --format "table {{.Names}}\t{{.Image}}\t{{.Size}}"

say "Common misconception: removing a container keeps its image"
run rm -f my-app-test
run images busybox

say "Changes in the writable layer are gone when the container is removed"
run rm -f my-app-prod
run run -d --name my-app-prod busybox sleep 300 >/dev/null
set +e
run exec my-app-prod cat /tmp/myfile.txt
set -e
printf '…but a named volume keeps its data:\n'
run run --rm -v demo-app-data:/app/data busybox sh -c 'echo "kept" > /app/data/f'
run run --rm -v demo-app-data:/app/data busybox cat /app/data/f

say "An image in use cannot be removed; after removing its containers it can"
node dist/scripts/busybox-image.js --tag my-base:v1.0 >/dev/null
run images my-base
run run -d --name demo-volume-writer my-base:v1.0 true
set +e
run rmi my-base:v1.0
set -e
run rm $(berth ps -aq --filter ancestor=my-base:v1.0)
run rmi my-base:v1.0

say "Images travel as archives: save, then load into a second, empty store"
run tag busybox my-base:v1.0
run save -o "$tmp/my-base.tar" my-base:v1.0
printf '$ berth --root %s load -i %s\n' "$tmp/other-root" "$tmp/my-base.tar"
berth --root "$tmp/other-root" --runroot "$tmp/other-run" load -i "$tmp/my-base.tar"
printf 'same image ID in both stores: '
a=$(berth image inspect -f '{{.Id}}' my-base:v1.0)
b=$(berth --root "$tmp/other-root" --runroot "$tmp/other-run" image inspect -f '{{.Id}}' my-base:v1.0)
[ "$a" = "$b" ] && echo "yes ($a)" || { echo "no: $a vs $b"; exit 1; }

say "Disk usage"
run system df

say "Done. Published ports, user networks, build and berth serve come next (see README.md)."
