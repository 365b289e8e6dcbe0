#!/usr/bin/env bash
# `npm run demo`: the tutorial the project was created from ("Docker Image vs Container: Key
# Differences"), command by command with `berth` in place of `docker` (npm runs scripts/setup.sh
# first). It narrates each step as the tutorial does.
#
# Store: berth's default one (/var/lib/berth and /run/berth, or BERTH_ROOT/BERTH_RUNROOT), the one
# `./bin/berth` uses afterwards, as a user following the tutorial would. It keeps the base images
# it makes (node:18-alpine, node:18, berth-local/node:<version>) so that the tutorial can be
# followed by hand afterwards, and removes everything else it creates. It refuses to start, with
# one line, when the store already holds one of the tutorial's names (so nothing of the user's is
# touched) or when host ports 3000-3003 are taken. "Another machine" is a temporary second store;
# the registry is Debian's docker-registry on 127.0.0.1 at a free port, stopped at the end.
# Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'printf "demo: failed at line %d: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

PORTS=(3000 3001 3002 3003)
NAMES=(my-app-prod my-app-dev my-app-staging my-app-test)
APP=examples/node-app
IMAGE=my-node-app:v1.0
VOLUME=app-data

# Colours only on a terminal (NO_COLOR turns them off there too).
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then BOLD=$'\033[1m' CYAN=$'\033[36m' RESET=$'\033[0m'; else BOLD="" CYAN="" RESET=""; fi
bold() { printf '%s%s%s\n' "$BOLD" "$*" "$RESET"; }
die() {
  printf 'demo: %s\n' "$*" >&2
  exit 1
}
berth() { ./bin/berth "$@"; }
say() { printf '\n'; bold "== $*"; }
note() { printf '   %s\n' "$*"; }
# Prints the command as a user would type it (quoting arguments with spaces), then runs it.
show() {
  local line="$" a
  for a in "$@"; do
    case "$a" in *[[:space:]]* | "") line+=" '$a'" ;; *) line+=" $a" ;; esac
  done
  printf '%s%s%s\n' "$CYAN" "$line" "$RESET"
}
run() {
  show berth "$@"
  berth "$@"
}
# A command the tutorial expects to fail: shows it, its error and its exit code.
fails() {
  show berth "$@"
  local rc=0
  berth "$@" || rc=$?
  [ "$rc" -ne 0 ] || die "expected 'berth $*' to fail, it succeeded"
  printf '   (exit code %d, as Docker)\n' "$rc"
}
# GET http://127.0.0.1:PORT/ until the app answers (up to 20 s); prints the answer.
answer() {
  local port=$1 i
  for i in $(seq 200); do
    if curl -fsS --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "nothing answers on 127.0.0.1:$port"
}

# ---------------------------------------------------------------------------------------------
# Checks before anything changes.
port_taken() {
  # A listener of any process on the host (bound to any address)…
  node -e '
    const s = require("node:net").createServer();
    s.once("error", () => process.exit(1));
    s.listen({ port: Number(process.argv[1]), host: "0.0.0.0", exclusive: true }, () => s.close(() => process.exit(0)));
  ' "$1" && ! ss -Hltn "sport = :$1" | grep -q . && return 1
  return 0
}
for p in "${PORTS[@]}"; do
  port_taken "$p" && die "host port $p is in use (the tutorial publishes 3000-3003); free it and run again"
done
# …and berth containers publishing them (through iptables, which holds no socket).
publishing=$(berth ps --format '{{.Names}} {{.Ports}}' | grep -E ':300[0-3]->' | cut -d' ' -f1 | tr '\n' ' ' || true)
[ -z "$publishing" ] || die "berth container(s) ${publishing}publish host ports in 3000-3003; stop them and run again"
for n in "${NAMES[@]}" frontend-prod; do
  if berth container inspect "$n" >/dev/null 2>&1; then
    die "this store already has a container named $n; remove it (berth rm -f $n) or run with BERTH_ROOT=<another dir>"
  fi
done
if berth images --format '{{.Repository}}' | grep -qE '(^|/)my-node-app$'; then
  die "this store already has my-node-app images; remove them (berth rmi) or run with BERTH_ROOT=<another dir>"
fi
if berth volume inspect "$VOLUME" >/dev/null 2>&1; then
  die "this store already has a volume named $VOLUME; remove it or run with BERTH_ROOT=<another dir>"
fi

tmp=$(mktemp -d /tmp/berth-demo.XXXXXX)
other=(--root "$tmp/other-machine/root" --runroot "$tmp/other-machine/run")
# The other machine's default network gets a bridge device of its own (and a free subnet).
other_bridge="bdemo$$"
other_berth() {
  env -u BERTH_BIP -u BERTH_DEFAULT_ADDRESS_POOLS BERTH_BRIDGE="$other_bridge" ./bin/berth "${other[@]}" "$@"
}
run_other() {
  show berth "${other[@]}" "$@"
  other_berth "$@"
}
# Build cache: pruned at the end when the store had none before (else left as it is).
build_cache_before=$(berth system df --format '{{.Type}}={{.TotalCount}}' | sed -n 's/^Build Cache=//p')
registry_pid=
cleanup() {
  local rc=$?
  set +e
  berth rm -f "${NAMES[@]}" frontend-prod >/dev/null 2>&1
  other_berth rm -f $(other_berth ps -aq 2>/dev/null) >/dev/null 2>&1
  ip link del "$other_bridge" 2>/dev/null
  for ns in "$tmp"/other-machine/run/netns/*; do umount "$ns" 2>/dev/null; done
  for r in $(berth images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -E '(^|/)my-node-app:'); do
    berth rmi -f "$r" >/dev/null 2>&1
  done
  berth volume rm "$VOLUME" >/dev/null 2>&1
  [ "${build_cache_before:-}" = 0 ] && berth builder prune -a -f >/dev/null 2>&1
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  umount -R "$tmp/other-machine" 2>/dev/null
  rm -rf "$tmp"
  [ "$rc" -eq 0 ] || printf 'demo: failed (exit %d); what it created is removed\n' "$rc" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
say "Set-up: the tutorial's base image, and a registry on 127.0.0.1"
note "There is no Docker Hub here: node:18-alpine is made offline from this machine's own Node.js"
note "(honest name: $(node dist/scripts/node-image.js); glibc, not musl; see README.md)."
port=$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat >"$tmp/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $tmp/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
registry_pid=$!
for i in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  kill -0 "$registry_pid" 2>/dev/null || die "docker-registry did not start on 127.0.0.1:$port: $(tail -1 "$tmp/registry.log")"
  [ "$i" -lt 100 ] || die "docker-registry does not answer on 127.0.0.1:$port"
  sleep 0.1
done
REGISTRY=127.0.0.1:$port
note "docker-registry (the reference registry) listens on $REGISTRY."
start=$SECONDS

# ---------------------------------------------------------------------------------------------
say "What is an image? A read-only template, built in layers from a Dockerfile"
show cat $APP/Dockerfile
sed 's/^/   /' $APP/Dockerfile
run build -t $IMAGE $APP
note "Each line is a layer; layers are cached and reused when possible:"
run history $IMAGE

say "What is a container? A running instance of an image, with a thin writable layer on top"
run run -d --name my-app-prod -p 3000:3000 $IMAGE
run ps

say "Multiple containers from the same image"
run run -d --name my-app-dev -p 3001:3000 $IMAGE
run run -d --name my-app-staging -p 3002:3000 $IMAGE
run run -d --name my-app-test -p 3003:3000 $IMAGE
run ps --format "table {{.Names}}\t{{.Image}}\t{{.Ports}}\t{{.Status}}"
note "Four containers, one image: each answers from its own container (its hostname is its ID):"
declare -A seen=()
for i in 0 1 2 3; do
  show curl "http://127.0.0.1:${PORTS[$i]}/"
  reply=$(answer "${PORTS[$i]}")
  printf '%s\n' "$reply"
  id=$(berth inspect -f '{{.Config.Hostname}}' "${NAMES[$i]}")
  case "$reply" in *"$id"*) ;; *) die "${NAMES[$i]} ($id) did not answer on ${PORTS[$i]}: $reply" ;; esac
  seen[$id]=1
done
[ "${#seen[@]}" -eq 4 ] || die "expected four different containers to answer"

say "Debugging: the image (build-time) or the container (run time)?"
show berth image inspect $IMAGE
berth image inspect $IMAGE >"$tmp/inspect.json"
head -n 12 "$tmp/inspect.json"
printf '   … (%d lines of JSON; the config:)\n' "$(wc -l <"$tmp/inspect.json")"
run image inspect --format '   Cmd={{json .Config.Cmd}} WorkingDir={{.Config.WorkingDir}} ExposedPorts={{json .Config.ExposedPorts}} Layers={{len .RootFS.Layers}}' $IMAGE
run logs my-app-prod
note "docker exec -it my-app-prod sh opens a shell inside it; here the shell reads its commands from stdin:"
printf '%s$ berth exec -i my-app-prod sh <<< "hostname; ls /app; ps; exit"%s\n' "$CYAN" "$RESET"
berth exec -i my-app-prod sh <<<"hostname; ls /app; ps; exit"

say "Storage: images and containers are stored separately"
run images --format "table {{.Repository}}\t{{.Tag}}\t{{.Size}}"
run ps -s --format "table {{.Names}}\t{{.Image}}\t{{.Size}}"
note "Removing a container deletes only its writable layer (the tutorial's 'docker rm my-app-test';"
note "the container is running, so Docker and berth ask for -f or a stop first):"
fails rm my-app-test
run stop my-app-test
run rm my-app-test
run images my-node-app

say "Sharing: tag, push to a registry, pull on another machine"
SHARED=$REGISTRY/username/my-node-app:v1.0
run tag $IMAGE "$SHARED"
run push "$SHARED"
note "Another machine: a second, empty berth store (--root) on this host."
run_other pull "$SHARED"
run_other run -d "$SHARED"
for i in $(seq 100); do
  other_berth logs "$(other_berth ps -lq)" 2>/dev/null | grep -q listening && break
  sleep 0.1
done
run_other ps --format "table {{.ID}}\t{{.Image}}\t{{.Status}}"
run_other logs "$(other_berth ps -lq)"
same_a=$(berth image inspect -f '{{.Id}}' $IMAGE)
same_b=$(other_berth image inspect -f '{{.Id}}' "$SHARED")
[ "$same_a" = "$same_b" ] || die "the pulled image has another ID: $same_b, not $same_a"
note "Same image ID on both machines: ${same_a:7:12}."
other_berth rm -f "$(other_berth ps -lq)" >/dev/null
run rmi "$SHARED"

say "Common misconception: \"I deleted the container, why is the image still there?\""
run rm -f my-app-prod
show berth images '|' grep my-node-app
berth images | grep my-node-app
note "Containers and images are stored separately: the image still makes new containers."

say "Common misconception: \"My changes disappeared when I restarted the container\""
run run -d --name my-app-prod -p 3000:3000 $IMAGE
run exec my-app-prod sh -c 'echo "temporary data" > /tmp/myfile.txt'
run exec my-app-prod cat /tmp/myfile.txt
run rm -f my-app-prod
run run -d --name my-app-prod -p 3000:3000 $IMAGE
fails exec my-app-prod cat /tmp/myfile.txt
note "A fresh container, a fresh writable layer. To persist data, use a volume:"
run rm -f my-app-prod
run run -d --name my-app-prod -p 3000:3000 -v $VOLUME:/app/data $IMAGE
run exec my-app-prod sh -c 'echo "kept in a volume" > /app/data/myfile.txt'
run rm -f my-app-prod
run run -d --name my-app-prod -p 3000:3000 -v $VOLUME:/app/data $IMAGE
run exec my-app-prod cat /app/data/myfile.txt
show curl http://127.0.0.1:3000/
answer 3000

say "Common misconception: \"Why can't I delete this image?\""
note "Docker prevents deleting an image that containers use:"
fails rmi $IMAGE
note "First remove all containers using the image (-f: they are running), then the image:"
printf '%s$ berth rm -f $(berth ps -aq --filter ancestor=%s)%s\n' "$CYAN" "$IMAGE" "$RESET"
berth rm -f $(berth ps -aq --filter ancestor=$IMAGE)
run rmi $IMAGE
run volume rm $VOLUME

say "Best practices: multi-stage builds"
note "The tutorial's multi-stage text works in / (it has no WORKDIR), so its COPY --from fails:"
show cat $APP/Dockerfile.multistage-tutorial
sed 's/^/   /' $APP/Dockerfile.multistage-tutorial
fails build -f $APP/Dockerfile.multistage-tutorial -t my-node-app:broken $APP
note "With WORKDIR /app in both stages (Dockerfile.multistage) it builds:"
run build -f $APP/Dockerfile.multistage -t my-node-app:v1.0.0 $APP

say "Best practices: meaningful tags (semantic versioning) and descriptive container names"
run tag my-node-app:v1.0.0 my-node-app:v1.0
run tag my-node-app:v1.0.0 my-node-app:v1
run build -f $APP/Dockerfile.multistage -t my-node-app:latest $APP
[ "$(berth images -q my-node-app:latest)" = "$(berth images -q my-node-app:v1.0.0)" ] ||
  die "the rebuild did not come from the cache (my-node-app:latest differs from v1.0.0)"
note "(every step came from the cache: the same image, one more tag)"
run images my-node-app
run run -d --name frontend-prod -p 3000:3000 my-node-app:latest
show curl http://127.0.0.1:3000/
answer 3000
run rm -f frontend-prod
run rmi my-node-app:v1.0.0 my-node-app:v1.0 my-node-app:v1 my-node-app:latest

say "Done in $((SECONDS - start)) s after set-up. Everything the demo made is removed; node:18-alpine stays cached."
