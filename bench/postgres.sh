#!/usr/bin/env bash
# The store's benchmarks on PostgreSQL, in a throwaway cluster with durable settings
# (.ci/postgres.sh with APOYO_PG_DURABLE=1) on this machine:
#   1. roll import (validated, COPY) next to the baseline `psql \copy` of the same CSV
#      into the same table, then the same three unique indexes, in one transaction;
#   2. reception over HTTP (bench/reception.sh with APOYO_DATABASE_URL);
#   3. batch verification (first verification and again) next to DuckDB's
#      classification of the same data (bench/verify_duckdb.py), as bench/verify-batch.sh.
#
#   bench/postgres.sh [VOTERS] [SUPPORTS] [RECEPTION_SECONDS]  # default 1420000 100000 20
#   PROFILE=debug bench/postgres.sh smoke                       # CI: correctness, not figures
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=
if [ "${1:-}" = smoke ]; then
  SMOKE=1
  set -- 20000 2000 smoke
fi
VOTERS=${1:-1420000}
SUPPORTS=${2:-100000}
RECEPTION=${3:-20}
SEED=2025
CUT=2025-08-31
PROFILE=${PROFILE:-release}
WORK=$(mktemp -d)

if [ "$PROFILE" = release ]; then
  cargo build --quiet --release --locked --bin apoyo
  cargo build --quiet --release --locked -p apoyo-store --example verify_bench
  TARGET=target/release
else
  cargo build --quiet --locked --bin apoyo
  cargo build --quiet --locked -p apoyo-store --example verify_bench
  TARGET=target/debug
fi
VENV=target/verify-bench/venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "duckdb==${DUCKDB_VERSION:-2.0.1}"
fi

eval "$(APOYO_PG_DURABLE=1 .ci/postgres.sh start)"
trap '.ci/postgres.sh stop; rm -rf "$WORK"' EXIT
SERVER=${APOYO_TEST_POSTGRES_URL%/postgres}
new_database() { # new_database NAME -> prints its URL
  psql -q "$APOYO_TEST_POSTGRES_URL" -c "CREATE DATABASE $1" >/dev/null
  echo "$SERVER/$1"
}
timed() { # timed NAME CMD... -> NAME.time holds "seconds peak_kb"
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$WORK/$name.time" "$@"
}

echo "# PostgreSQL benchmarks: $VOTERS voters, $SUPPORTS supports, profile $PROFILE, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(psql -Atq "$APOYO_TEST_POSTGRES_URL" -c 'SHOW server_version'), fsync on"

# 1. Roll import.
"$TARGET/apoyo" roll generate --voters "$VOTERS" --seed "$SEED" --cut-date "$CUT" --out "$WORK/roll.csv" >/dev/null
ROWS=$(( $(wc -l < "$WORK/roll.csv") - 1 ))
DB=$(new_database roll_apoyo)
timed import "$TARGET/apoyo" roll --data-dir "$WORK/scratch" --database-url "$DB" import "$WORK/roll.csv" --cut-date "$CUT" >/dev/null
APOYO_MIB=$(psql -Atq "$DB" -c "SELECT pg_database_size(current_database()) / 1048576")
DB=$(new_database roll_baseline)
cat > "$WORK/baseline.sql" <<SQL
BEGIN;
CREATE TABLE roll_records (
    clave_elector TEXT NOT NULL, curp TEXT, nombre TEXT NOT NULL, apellido_paterno TEXT NOT NULL,
    apellido_materno TEXT NOT NULL, sexo TEXT NOT NULL, fecha_nacimiento TEXT NOT NULL,
    entidad BIGINT NOT NULL, municipio BIGINT NOT NULL, seccion BIGINT NOT NULL, modelo TEXT NOT NULL,
    cic TEXT, ocr TEXT, identificador_ciudadano TEXT, emision BIGINT NOT NULL, vigencia BIGINT NOT NULL,
    situacion TEXT NOT NULL, causa_baja TEXT
);
\copy roll_records FROM '$WORK/roll.csv' WITH (FORMAT csv, HEADER true)
CREATE UNIQUE INDEX roll_records_cic ON roll_records (cic) WHERE cic IS NOT NULL;
CREATE UNIQUE INDEX roll_records_clave_issue ON roll_records (clave_elector, emision);
CREATE UNIQUE INDEX roll_records_current ON roll_records (clave_elector) WHERE situacion <> 'reemplazada';
COMMIT;
SQL
timed baseline psql -q -v ON_ERROR_STOP=1 "$DB" -f "$WORK/baseline.sql"
BASE_ROWS=$(psql -Atq "$DB" -c "SELECT count(*) FROM roll_records")
[ "$BASE_ROWS" = "$ROWS" ] || { echo "baseline imported $BASE_ROWS rows, expected $ROWS" >&2; exit 1; }
BASE_MIB=$(psql -Atq "$DB" -c "SELECT pg_database_size(current_database()) / 1048576")
read -r IMP_S IMP_KB < "$WORK/import.time"
read -r BASE_S BASE_KB < "$WORK/baseline.time"
awk -v rows="$ROWS" -v is="$IMP_S" -v ik="$IMP_KB" -v idb="$APOYO_MIB" -v bs="$BASE_S" -v bk="$BASE_KB" -v bdb="$BASE_MIB" 'BEGIN {
  printf "## roll import, %d rows\n", rows
  printf "%-40s %9s %12s %18s %12s\n", "step", "seconds", "rows/s", "client RSS MiB", "DB MiB"
  printf "%-40s %9.2f %12.0f %18.1f %12d\n", "apoyo roll import (validated, COPY)", is, rows / (is > 0 ? is : 0.01), ik / 1024, idb
  printf "%-40s %9.2f %12.0f %18.1f %12d\n", "baseline: psql \\copy + 3 indexes", bs, rows / (bs > 0 ? bs : 0.01), bk / 1024, bdb
  printf "import speed ratio (baseline seconds / apoyo seconds): %.2f\n", bs / (is > 0 ? is : 0.01)
}'

# 2. Reception over HTTP (the images still go to a local directory).
echo "## reception"
if [ -n "$SMOKE" ]; then
  APOYO_DATABASE_URL=$(new_database reception) PROFILE="$PROFILE" bench/reception.sh smoke
else
  APOYO_DATABASE_URL=$(new_database reception) PROFILE="$PROFILE" bench/reception.sh "$RECEPTION"
fi

# 3. Batch verification against DuckDB.
echo "## batch verification"
export APOYO_DATABASE_URL
APOYO_DATABASE_URL=$(new_database verify)
"$TARGET/examples/verify_bench" prepare "$WORK/verify" "$VOTERS" "$SUPPORTS" "$SEED" > "$WORK/prepare.txt"
grep -E "^(import|load_supports|export)_seconds" "$WORK/prepare.txt"
"$VENV/bin/python" bench/verify_duckdb.py load "$WORK/verify" >/dev/null
"$TARGET/examples/verify_bench" run "$WORK/verify" | tee "$WORK/apoyo.txt" | grep -E "^(first|again)_(seconds|cpu_seconds)|^disagreements|^counts_match"
"$VENV/bin/python" bench/verify_duckdb.py run "$WORK/verify" > "$WORK/duckdb.txt"
awk '
  $1 == "first_seconds" { first = $2 } $1 == "again_seconds" { again = $2 }
  $1 == "duckdb_seconds" { duck = $2 } $1 == "duckdb_version" { version = $2 }
  END {
    printf "DuckDB %s classification: %.3f s\n", version, duck
    printf "ratio DuckDB seconds / apoyo seconds: first %.2f, again %.2f\n", duck / first, duck / again
  }' "$WORK/apoyo.txt" "$WORK/duckdb.txt"
grep -q "^disagreements 0" "$WORK/apoyo.txt" || { echo "verification disagrees with the ground truth" >&2; exit 1; }
