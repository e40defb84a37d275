#!/usr/bin/env bash
# Benchmark: batch verification of SUPPORTS supports against a VOTERS-citizen roll with
# Store::run_reverification, next to DuckDB doing the same classification as SQL joins
# over the same data, in the same run. Checks every outcome against the ground truth
# of the capture set and DuckDB's against apoyo's. Prints both times and the ratio.
#
#   bench/verify-batch.sh [VOTERS] [SUPPORTS] [SEED]   # default: 10000000 1000000 2025
#   PROFILE=debug bench/verify-batch.sh 20000 2000     # smoke run (CI), no release build
#
# The roll, capture set, imported store and DuckDB database are cached in
# target/verify-bench/<voters>-<supports>-<seed>/ (delete it to regenerate); every run
# verifies a fresh copy of the prepared store (CONSUME=1: the prepared store itself, no copy).
set -euo pipefail
cd "$(dirname "$0")/.."

VOTERS=${1:-10000000}
SUPPORTS=${2:-1000000}
SEED=${3:-2025}
PROFILE=${PROFILE:-release}
CACHE=target/verify-bench/$VOTERS-$SUPPORTS-$SEED
VENV=target/verify-bench/venv

if [ "$PROFILE" = release ]; then
  cargo build --quiet --release --locked -p apoyo-store --example verify_bench
  BENCH=target/release/examples/verify_bench
else
  cargo build --quiet --locked -p apoyo-store --example verify_bench
  BENCH=target/debug/examples/verify_bench
fi
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "duckdb==${DUCKDB_VERSION:-2.0.1}"
fi

echo "# verification benchmark: $VOTERS voters, $SUPPORTS supports, seed $SEED, profile $PROFILE, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

if [ ! -f "$CACHE/prepared" ]; then
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  "$BENCH" prepare "$CACHE" "$VOTERS" "$SUPPORTS" "$SEED" | tee "$CACHE/prepare.txt"
  mv "$CACHE/data" "$CACHE/pristine"
  "$VENV/bin/python" bench/verify_duckdb.py load "$CACHE"
  touch "$CACHE/prepared"
fi

# apoyo: a fresh copy of the prepared store, then the timed runs and the checks.
rm -rf "$CACHE/data"
if [ -n "${CONSUME:-}" ]; then
  # The prepared store itself, to spare disk space (3 GB at 10 M); the next run prepares again.
  rm "$CACHE/prepared"
  mv "$CACHE/pristine" "$CACHE/data"
else
  cp -r "$CACHE/pristine" "$CACHE/data"
fi
"$BENCH" run "$CACHE" | tee "$CACHE/apoyo.txt"
# DuckDB: the timed query, then its outcomes against apoyo's.
"$VENV/bin/python" bench/verify_duckdb.py run "$CACHE" | tee "$CACHE/duckdb.txt"
rm -rf "$CACHE/data"

awk '
  $1 == "first_seconds" { first = $2 } $1 == "first_cpu_seconds" { cpu1 = $2 } $1 == "first_peak_rss_mib" { rss1 = $2 }
  $1 == "again_seconds" { again = $2 } $1 == "again_cpu_seconds" { cpu2 = $2 } $1 == "again_peak_rss_mib" { rss2 = $2 }
  $1 == "duckdb_seconds" { duck = $2 } $1 == "duckdb_cpu_seconds" { dcpu = $2 } $1 == "duckdb_peak_rss_mib" { drss = $2 }
  $1 == "duckdb_version" { version = $2 }
  END {
    printf "%-58s %9s %9s %14s\n", "step", "seconds", "CPU s", "peak RSS MiB"
    printf "%-58s %9.3f %9.2f %14.1f\n", "apoyo run_reverification, first verification (all written)", first, cpu1, rss1
    printf "%-58s %9.3f %9.2f %14.1f\n", "apoyo run_reverification, again (nothing changes)", again, cpu2, rss2
    printf "%-58s %9.3f %9.2f %14.1f\n", "DuckDB " version " classification (CREATE TABLE AS)", duck, dcpu, drss
    printf "ratio DuckDB seconds / apoyo seconds: first %.2f, again %.2f\n", duck / first, duck / again
  }' "$CACHE/apoyo.txt" "$CACHE/duckdb.txt"
