#!/usr/bin/env bash
# Benchmark: accepted supports per second through POST /api/v1/supports (real server,
# ~150 KB of images per support, every image decoded, hashed and fsynced) at 50 and 200
# concurrent clients, next to the disk's raw sequential write speed measured in the same
# run on the same filesystem as the data directory.
#
#   bench/reception.sh [SECONDS] [CLIENTS]       # default: 20 s each at 50,200 clients
#   GROUP=1 bench/reception.sh                   # one transaction per support (no group commit)
#   MODE=store bench/reception.sh                # Reception::accept directly: no HTTP, no decoding
#   PROFILE=debug bench/reception.sh smoke       # smoke run (CI): debug build, a few supports
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-20}
CLIENTS=${2:-50,200}
PROFILE=${PROFILE:-release}
GROUP=${GROUP:-256}
MODE=${MODE:-http}
WORK=${WORK:-$(mktemp -d)}
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

if [ "$PROFILE" = release ]; then
  cargo build --quiet --release -p apoyo-bench --bin reception
  BIN=target/release/reception
else
  cargo build --quiet -p apoyo-bench --bin reception
  BIN=target/debug/reception
fi
mkdir -p "$WORK/data"

echo "# reception benchmark: profile $PROFILE, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(df -T "$WORK" | awk 'NR==2 {print $2}') at $WORK"

if [ "$SECONDS_EACH" = smoke ]; then
  # Correctness of the program and the script, not a figure.
  dd if=/dev/zero of="$WORK/data/ddtest" bs=1M count=16 conv=fsync 2> "$WORK/dd.txt"
  rm -f "$WORK/data/ddtest"
  DISK_MBPS=$(awk '/copied/ {print $(NF-1) * ($NF == "GB/s" ? 1000 : 1)}' "$WORK/dd.txt")
  "$BIN" --data-dir "$WORK/data" --clients 2,8 --count 8 --pool 2 --collectors 2 --voters 3000 \
    --group "$GROUP" --mode "$MODE" --disk-mbps "$DISK_MBPS"
  exit 0
fi

# The disk's raw sequential write speed: 1 GiB, fsynced, on the data directory's filesystem.
dd if=/dev/zero of="$WORK/data/ddtest" bs=1M count=1024 conv=fsync 2> "$WORK/dd.txt"
rm -f "$WORK/data/ddtest"
cat "$WORK/dd.txt" | tail -1
DISK_MBPS=$(awk '/copied/ {print $(NF-1) * ($NF == "GB/s" ? 1000 : 1)}' "$WORK/dd.txt")
echo "disk: $DISK_MBPS MB/s sequential write (dd conv=fsync)"

"$BIN" --data-dir "$WORK/data" --clients "$CLIENTS" --seconds "$SECONDS_EACH" --group "$GROUP" \
  --mode "$MODE" --disk-mbps "$DISK_MBPS"
echo "data directory after the run: $(du -sh "$WORK/data" | cut -f1)"
