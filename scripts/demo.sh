#!/usr/bin/env bash
# `npm run demo`: a walk through what berth does today (npm runs scripts/setup.sh first).
# It uses berth's default store (/var/lib/berth, or BERTH_ROOT) like a user would.
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

say "A base image, made offline from Debian's busybox-static and imported as busybox:latest"
node dist/scripts/busybox-image.js >/dev/null
run images busybox

say "An image is a read-only, layered template: its history and its configuration"
run history busybox
run image inspect --format '{{.Id}}  layers={{len .RootFS.Layers}}  cmd={{json .Config.Cmd}}  {{.Os}}/{{.Architecture}}' busybox

say "Tags are names for an image ID: one image, two tags"
run tag busybox my-base:v1.0
run images --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}'

say "Images travel as archives: save, then load into a second, empty store"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run save -o "$tmp/my-base.tar" my-base:v1.0
printf '$ berth --root %s load -i %s\n' "$tmp/other-root" "$tmp/my-base.tar"
berth --root "$tmp/other-root" --runroot "$tmp/other-run" load -i "$tmp/my-base.tar"
printf 'same image ID in both stores: '
a=$(berth image inspect -f '{{.Id}}' my-base:v1.0)
b=$(berth --root "$tmp/other-root" --runroot "$tmp/other-run" image inspect -f '{{.Id}}' my-base:v1.0)
[ "$a" = "$b" ] && echo "yes ($a)" || { echo "no: $a vs $b"; exit 1; }

say "Removing a tag keeps the image while another tag names it"
run rmi my-base:v1.0
run system df

say "Done. Containers, networks, builds and registries come next (see README.md)."
