#!/usr/bin/env bash
# An emulated cluster on one machine: N "hosts", each a network namespace with its own
# address in 10.99.0.0/24 and its own host name, joined by veth pairs on a bridge, and
# mpirun launching ranks across them through `ip netns exec` (Open MPI's rsh launcher
# with our own launch agent, no ssh). Traffic between ranks on different hosts goes over
# TCP through the kernel's network stack, as between machines — only without wire
# latency; add `--comm-latency-us` to emulate that.
#
#   scripts/emulated-cluster.sh up N [SLOTS]   create hosts snn-h1 … snn-hN (SLOTS ranks each, default 1)
#   scripts/emulated-cluster.sh mpirun ARGS…   run `mpirun ARGS…` from snn-h1 across the hosts
#   scripts/emulated-cluster.sh hostfile       print the path of the generated hostfile
#   scripts/emulated-cluster.sh down           remove everything `up` created
#
# Needs root and iproute2 (scripts/install-deps.sh). Only 10.99.0.0/24 is used.
set -euo pipefail

PREFIX=snn-h
BRIDGE=snn-br0
NET=10.99.0
STATE=/run/snn-cluster

die() { echo "emulated-cluster: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces)"
command -v ip >/dev/null 2>&1 || die "ip (iproute2) not found: run scripts/install-deps.sh"

hosts() { [ -f "$STATE/hosts" ] && cat "$STATE/hosts" || true; }

down() {
  for h in $(hosts); do
    ip netns del "$h" 2>/dev/null || true
    rm -rf "/etc/netns/$h"
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^snn-v" || true); do
    ip link del "$link" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$STATE"
}

up() {
  local n=$1 slots=${2:-1}
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 250 ] || die "N = '$n': expected a number of hosts in 1..250"
  [[ "$slots" =~ ^[0-9]+$ ]] && [ "$slots" -ge 1 ] || die "SLOTS = '$slots': expected a positive number"
  down
  mkdir -p "$STATE"
  ip link add "$BRIDGE" type bridge
  ip link set "$BRIDGE" up
  : >"$STATE/hostfile"
  local etc_hosts="127.0.0.1 localhost"$'\n'
  for k in $(seq "$n"); do etc_hosts+="$NET.$k $PREFIX$k"$'\n'; done
  for k in $(seq "$n"); do
    local h=$PREFIX$k
    echo "$h" >>"$STATE/hosts"
    ip netns add "$h"
    ip link add "snn-v$k" type veth peer name eth0 netns "$h"
    ip link set "snn-v$k" master "$BRIDGE" up
    ip -n "$h" addr add "$NET.$k/24" dev eth0
    ip -n "$h" link set eth0 up
    ip -n "$h" link set lo up
    # `ip netns exec` bind-mounts /etc/netns/<name>/hosts over /etc/hosts.
    mkdir -p "/etc/netns/$h"
    printf '%s' "$etc_hosts" >"/etc/netns/$h/hosts"
    echo "$h slots=$slots" >>"$STATE/hostfile"
  done
  # The launch agent mpirun calls as `agent HOST COMMAND…` (in place of ssh): run the
  # command inside HOST's namespace, under HOST's own host name (a new UTS namespace).
  cat >"$STATE/agent" <<'AGENT'
#!/bin/sh
host="$1"; shift
exec ip netns exec "$host" unshare --uts sh -c "hostname $host && $*"
AGENT
  chmod +x "$STATE/agent"
  echo "emulated cluster up: $n host(s) ($(tr '\n' ' ' <"$STATE/hosts")), hostfile $STATE/hostfile"
}

run_mpirun() {
  [ -f "$STATE/agent" ] || die "no emulated cluster: run '$0 up N' first"
  # mpirun itself runs on host 1; every rank, local or launched, talks over 10.99.0.0/24.
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    ip netns exec "${PREFIX}1" unshare --uts sh -c 'hostname "$0" && exec "$@"' "${PREFIX}1" \
    mpirun --hostfile "$STATE/hostfile" --mca plm_rsh_agent "$STATE/agent" \
    --mca btl tcp,self --mca btl_tcp_if_include "$NET.0/24" --mca oob_tcp_if_include "$NET.0/24" \
    --bind-to none -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM "$@"
}

case "${1:-}" in
  up) shift; [ $# -ge 1 ] || die "usage: $0 up N [SLOTS]"; up "$@" ;;
  down) down; echo "emulated cluster down" ;;
  mpirun) shift; run_mpirun "$@" ;;
  hostfile) [ -f "$STATE/hostfile" ] || die "no emulated cluster"; echo "$STATE/hostfile" ;;
  *) die "usage: $0 up N [SLOTS] | mpirun ARGS... | hostfile | down" ;;
esac
