#!/usr/bin/env bash
# Installs what building and testing snn-limits needs beyond a Rust toolchain with
# rustfmt and clippy. The default build (threads in one process) needs only `make`;
# MPI support (issue: many processes) will add its Debian packages here.
set -euo pipefail
need=()
command -v make >/dev/null 2>&1 || need+=(make)
command -v cargo >/dev/null 2>&1 || { echo "error: cargo not found; install a Rust toolchain (rustup) first" >&2; exit 1; }
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing ${need[*]}; install them (e.g. sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
