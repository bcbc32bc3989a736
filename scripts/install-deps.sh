#!/usr/bin/env bash
# Installs what building and testing snn-limits needs beyond a Rust toolchain with
# rustfmt and clippy: make, and for the MPI build (cargo feature `mpi`, rsmpi) Open MPI
# and libclang (rsmpi generates its bindings with bindgen); iproute2 for the emulated
# cluster (scripts/emulated-cluster.sh); chromium, in which a test opens the HTML report
# headless (images loaded, no console error, a non-blank screenshot). Debian/Ubuntu packages; run as root (CI is).
# Without root it only reports what is missing: the threads-only build needs none of it.
set -euo pipefail
command -v cargo >/dev/null 2>&1 || {
  echo "error: cargo not found; install a Rust toolchain (rustup) first" >&2
  exit 1
}
need=()
have() { dpkg -s "$1" >/dev/null 2>&1; }
command -v make >/dev/null 2>&1 || need+=(make)
for pkg in openmpi-bin libopenmpi-dev libclang-dev iproute2 chromium; do
  have "$pkg" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not installed: ${need[*]} (needed for MPI runs and tests; as root: apt-get install ${need[*]})" >&2
  exit 0
fi
echo "installing ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
