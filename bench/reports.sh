#!/usr/bin/env bash
# Benchmark: ROWS synthetic support rows (8 columns) through the report writers
# (crates/reports: XLSX and CSV) into a ChunkWriter that only counts the chunks, as the
# server sends them down the HTTP body. Prints bytes, seconds, rows per second and the
# process's peak resident memory (VmHWM), which must stay flat as ROWS grows.
#
#   bench/reports.sh [ROWS]                  # default: 1000000
#   PROFILE=debug bench/reports.sh 20000     # smoke run (CI), no release build
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${1:-1000000}
PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then
  cargo build --quiet --release --locked -p apoyo-reports --example million_rows
  BENCH=target/release/examples/million_rows
else
  cargo build --quiet --locked -p apoyo-reports --example million_rows
  BENCH=target/debug/examples/million_rows
fi
echo "# report writers: $ROWS rows, profile $PROFILE, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$BENCH" "$ROWS"
