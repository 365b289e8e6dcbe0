#!/usr/bin/env bash
# Installs the bench's peers, Docker and Podman, from Debian (docker.io 20.10, podman 4.3), as
# root and idempotently; `npm run bench -- --peers` runs it. Only the bench uses them: tests never
# do, and scripts/setup.sh does not install them.
#
# After this script no daemon of theirs runs and none starts on its own: the package scripts are
# kept from starting services (policy-rc.d), docker.service/containerd.service are stopped,
# disabled and masked where systemd is in charge, and the SysV scripts are disabled. The bench
# starts its own dockerd on a temporary data root for the length of a run and stops it after.
#
# Podman is configured for this machine kind in /etc/containers/containers.conf: runc as the
# runtime (crun fails on hybrid cgroups), default ulimits capped to the hard limits in force
# (Podman's default 1048576 nofile/nproc needs CAP_SYS_RESOURCE; Podman itself runs with nproc
# 32768), cgroupfs and file events when
# systemd is not PID 1.
set -euo pipefail

log() { printf 'bench-peers: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (installs docker.io and podman)"
  exit 1
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in docker.io podman; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  # Keep the packages' maintainer scripts from starting dockerd/containerd: invoke-rc.d asks
  # policy-rc.d, and 101 means "not allowed". An existing policy is left as it is.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
  if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# No daemon outside a bench run.
if [ -d /run/systemd/system ]; then
  for unit in docker.socket docker.service containerd.service; do
    systemctl stop "$unit" 2>/dev/null || true
  done
fi
if command -v systemctl >/dev/null; then
  # mask works without a running systemd too (it writes the /etc/systemd/system links).
  systemctl disable docker.service docker.socket containerd.service >/dev/null 2>&1 || true
  systemctl mask docker.service docker.socket containerd.service >/dev/null 2>&1 || true
fi
for svc in docker containerd; do
  if [ -x "/etc/init.d/$svc" ]; then
    "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
done
# A dockerd the packages started on the default pid file (the bench's own uses its workspace).
if [ -s /var/run/docker.pid ] && grep -qx dockerd "/proc/$(cat /var/run/docker.pid)/comm" 2>/dev/null; then
  log "stopping the system dockerd ($(cat /var/run/docker.pid))"
  kill "$(cat /var/run/docker.pid)" || true
fi

# Podman's configuration for this machine kind.
conf=/etc/containers/containers.conf
marker="# written by berth's scripts/bench-peers.sh"
hard_nofile=$(ulimit -Hn)
hard_nproc=$(ulimit -Hu)
# Podman lowers its own RLIMIT_NPROC to 32768 when it starts (its children, conmon and runc,
# inherit that), so a container's nproc above it fails with EPERM as well.
if [ "$hard_nproc" = unlimited ] || [ "$hard_nproc" -gt 32768 ]; then hard_nproc=32768; fi
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
systemd_pid1=0
[ -d /run/systemd/system ] && systemd_pid1=1
want="$marker
[containers]
default_ulimits = [
  \"nofile=${hard_nofile}:${hard_nofile}\",
  \"nproc=${hard_nproc}:${hard_nproc}\",
]

[engine]
runtime = \"runc\""
if [ "$systemd_pid1" = 0 ]; then
  want="$want
cgroup_manager = \"cgroupfs\"
events_logger = \"file\""
fi
if [ -e "$conf" ] && ! head -n1 "$conf" | grep -qF "$marker"; then
  # Someone else's configuration: check it has what the bench needs rather than replace it.
  if ! grep -Eq '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$conf" ||
    ! grep -q 'default_ulimits' "$conf"; then
    log "$conf exists and does not set runtime = \"runc\" and default_ulimits: add them by hand"
    exit 1
  fi
elif [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
  mkdir -p /etc/containers
  printf '%s\n' "$want" >"$conf"
  log "wrote $conf (runc; nofile ${hard_nofile}, nproc ${hard_nproc})"
fi
