#!/usr/bin/env bash
# Benchmark: the MRZ reader (crates/mrz-reader) on synthetic photographs of
# credential backs, per difficulty level, next to Tesseract 5 on the same
# images in the same run. Prints, per level: share read exactly right (all three
# lines), share read wrong but accepted (must be 0), share accepted, images where
# no MRZ was found, ms per image (reader; JPEG decoding apart), and Tesseract's
# exact share, wrong-with-check-digits-holding share and ms per image.
#
#   bench/mrz-read.sh [COUNT] [SEED]      # default: 200 images per level, seed 20261128
#   NO_TESSERACT=1 bench/mrz-read.sh 40 1 # reader only (tuning)
#   PROFILE=debug NO_TESSERACT=1 bench/mrz-read.sh 3 1   # smoke run (CI), no release build
#
# Tesseract (apt-get install -y tesseract-ocr tesseract-ocr-eng) is given the
# axis-aligned bounding box of the ground-truth MRZ band, padded by half a line
# pitch, as an 8-bit gray PGM, and run one process per image as
#   tesseract CROP stdout --psm 6 -l eng -c tessedit_char_whitelist=0-9A-Z<
# (OMP_THREAD_LIMIT=1); its output lines, spaces removed, are compared with the
# truth. Its time is the process's wall time (start-up and model loading included).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${1:-200}
SEED=${2:-20261128}
WORK=${WORK:-$(mktemp -d)}
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then
  cargo build --quiet --release --bin apoyo
  cargo build --quiet --release -p apoyo-mrz-reader --example mrz_bench
  BIN=target/release
else
  cargo build --quiet --bin apoyo
  cargo build --quiet -p apoyo-mrz-reader --example mrz_bench
  BIN=target/debug
fi
for level in easy moderate hard; do
  "$BIN"/apoyo credential synth-images --level "$level" --count "$COUNT" --seed "$SEED" --out "$WORK" >/dev/null
done

ARGS=("$WORK")
if [ -z "${NO_TESSERACT:-}" ]; then
  command -v tesseract >/dev/null || { echo "tesseract is needed for the comparison (apt-get install -y tesseract-ocr tesseract-ocr-eng), or set NO_TESSERACT=1" >&2; exit 1; }
  ARGS+=(--tesseract)
fi
echo "MRZ reader on $COUNT images per level, seed $SEED ($(nproc) cores; $(tesseract --version 2>/dev/null | head -1 || echo 'no tesseract'))"
"$BIN"/examples/mrz_bench "${ARGS[@]}"
