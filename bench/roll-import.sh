#!/usr/bin/env bash
# Benchmark: generate a synthetic roll and import it, next to the baseline of the
# sqlite3 command-line `.import` of the same CSV into the same table with the same
# indexes and the same PRAGMAs. Prints rows/s, seconds, peak memory and database size.
#
#   bench/roll-import.sh [VOTERS] [SEED]          # default: 1420000 (Durango), seed 2025
#   PROFILE=debug bench/roll-import.sh 20000      # smoke run (CI), no release build
set -euo pipefail
cd "$(dirname "$0")/.."

VOTERS=${1:-1420000}
SEED=${2:-2025}
CUT=2025-08-31
PROFILE=${PROFILE:-release}
WORK=${WORK:-$(mktemp -d)}
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

if [ "$PROFILE" = release ]; then
  cargo build --quiet --release --bin apoyo
  APOYO=target/release/apoyo
else
  cargo build --quiet --bin apoyo
  APOYO=target/debug/apoyo
fi
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed for the baseline (apt-get install sqlite3)" >&2; exit 1; }

timed() { # timed NAME CMD... -> NAME.time holds "seconds peak_kb"
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$WORK/$name.time" "$@"
}

echo "# roll benchmark: $VOTERS voters, seed $SEED, profile $PROFILE, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

timed generate "$APOYO" roll generate --voters "$VOTERS" --seed "$SEED" --cut-date "$CUT" --out "$WORK/roll.csv" >/dev/null
ROWS=$(( $(wc -l < "$WORK/roll.csv") - 1 ))
CSV_BYTES=$(stat -c %s "$WORK/roll.csv")

timed import "$APOYO" roll --data-dir "$WORK/apoyo" import "$WORK/roll.csv" --cut-date "$CUT" >/dev/null
APOYO_DB=$(du -cb "$WORK"/apoyo/apoyo.sqlite3* | tail -1 | cut -f1)
# The imported counts per municipio against the public table's shares (the generator's target).
"$APOYO" roll --data-dir "$WORK/apoyo" show "lista-nominal-$CUT" --json > "$WORK/show.json"
python3 - "$WORK/show.json" crates/synth/data/durango_municipios.csv <<'PY'
import csv, json, sys
show = json.load(open(sys.argv[1]))
public = {int(r["ine_municipio"]): int(r["lista_nominal_2022"]) for r in csv.DictReader(open(sys.argv[2]))}
got = {m["municipality"]: m["lista_nominal"] for m in show["municipalities"]}
total_public, total_got = sum(public.values()), sum(got.values())
worst = max(public, key=lambda m: abs(public[m] / total_public - got.get(m, 0) / total_got))
delta = abs(public[worst] / total_public - got.get(worst, 0) / total_got) * 100
print(f"municipios imported: {len(got)}; largest gap to the public table's share: {delta:.3f} percentage points (municipio {worst})")
PY

# The baseline: the roll_records table of migration 0001 without the two bookkeeping
# columns (snapshot_id, line) the CSV does not carry, the same three unique indexes,
# and the PRAGMAs the store uses (WAL, synchronous NORMAL, 64 MiB cache).
cat > "$WORK/baseline.sql" <<'SQL'
PRAGMA journal_mode = WAL;
CREATE TABLE roll_records (
    clave_elector TEXT NOT NULL, curp TEXT, nombre TEXT NOT NULL, apellido_paterno TEXT NOT NULL,
    apellido_materno TEXT NOT NULL, sexo TEXT NOT NULL, fecha_nacimiento TEXT NOT NULL,
    entidad INTEGER NOT NULL, municipio INTEGER NOT NULL, seccion INTEGER NOT NULL, modelo TEXT NOT NULL,
    cic TEXT, ocr TEXT, identificador_ciudadano TEXT, emision INTEGER NOT NULL, vigencia INTEGER NOT NULL,
    situacion TEXT NOT NULL, causa_baja TEXT
);
CREATE UNIQUE INDEX roll_records_cic ON roll_records (cic) WHERE cic <> '';
CREATE UNIQUE INDEX roll_records_clave_issue ON roll_records (clave_elector, emision);
CREATE UNIQUE INDEX roll_records_current ON roll_records (clave_elector) WHERE situacion <> 'reemplazada';
SQL
sqlite3 "$WORK/baseline.db" < "$WORK/baseline.sql" >/dev/null
timed baseline sqlite3 -cmd "PRAGMA synchronous = NORMAL" -cmd "PRAGMA cache_size = -65536" \
  "$WORK/baseline.db" ".import --csv --skip 1 $WORK/roll.csv roll_records"
BASE_DB=$(du -cb "$WORK"/baseline.db* | tail -1 | cut -f1)
BASE_ROWS=$(sqlite3 "$WORK/baseline.db" "SELECT count(*) FROM roll_records")
[ "$BASE_ROWS" = "$ROWS" ] || { echo "baseline imported $BASE_ROWS rows, expected $ROWS" >&2; exit 1; }

read -r GEN_S GEN_KB < "$WORK/generate.time"
read -r IMP_S IMP_KB < "$WORK/import.time"
read -r BASE_S BASE_KB < "$WORK/baseline.time"
awk -v rows="$ROWS" -v csv="$CSV_BYTES" \
    -v gs="$GEN_S" -v gk="$GEN_KB" -v is="$IMP_S" -v ik="$IMP_KB" -v idb="$APOYO_DB" \
    -v bs="$BASE_S" -v bk="$BASE_KB" -v bdb="$BASE_DB" 'BEGIN {
  mb = 1048576
  printf "rows %d (csv %.0f MiB)\n", rows, csv / mb
  printf "%-34s %9s %12s %14s %12s\n", "step", "seconds", "rows/s", "peak RSS MiB", "DB MiB"
  printf "%-34s %9.2f %12.0f %14.1f %12s\n", "apoyo roll generate", gs, rows / (gs > 0 ? gs : 0.01), gk / 1024, "-"
  printf "%-34s %9.2f %12.0f %14.1f %12.1f\n", "apoyo roll import (validated)", is, rows / (is > 0 ? is : 0.01), ik / 1024, idb / mb
  printf "%-34s %9.2f %12.0f %14.1f %12.1f\n", "baseline: sqlite3 .import", bs, rows / (bs > 0 ? bs : 0.01), bk / 1024, bdb / mb
  printf "import speed ratio (baseline seconds / apoyo seconds): %.2f\n", bs / (is > 0 ? is : 0.01)
}'
