#!/usr/bin/env bash
# Benchmark: download the process report (CSV and XLSX) of a store with many supports
# through a running `apoyo serve`, and measure the server's peak resident memory
# (VmHWM) before and after each download, so "streamed, memory stays flat" is measured
# end to end (database pages → writer → chunks → HTTP body).
#
#   bench/report-download.sh [STORE_DIR]
#
# STORE_DIR holds an apoyo.sqlite3 with supports, by default the one bench/verify-batch.sh
# prepares (target/verify-bench/1420000-100000-2025/pristine: 100,000 supports; run
#   bench/verify-batch.sh 1420000 100000
# first). The store is copied; the copy gets an administrator account for the download.
# COPIES=N (default 1) repeats every support N times in the copy (new client ids and
# folios; same citizens), e.g. COPIES=11 turns the 94,000 supports of that store into
# 1,034,000, to see that memory does not grow with the size of the report.
set -euo pipefail
cd "$(dirname "$0")/.."

SOURCE=${1:-target/verify-bench/1420000-100000-2025/pristine}
PROFILE=${PROFILE:-release}
[ -f "$SOURCE/apoyo.sqlite3" ] || { echo "no $SOURCE/apoyo.sqlite3: run bench/verify-batch.sh first" >&2; exit 2; }
if [ "$PROFILE" = release ]; then
  cargo build --quiet --release --locked --bin apoyo
else
  cargo build --quiet --locked --bin apoyo
fi
APOYO=$PWD/target/$PROFILE/apoyo
WORK=$(mktemp -d)
SERVER=
trap '[ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/data"
cp "$SOURCE/apoyo.sqlite3" "$WORK/data/"
export APOYO_DATA_DIR=$WORK/data APOYO_LOG_LEVEL=warn
COPIES=${COPIES:-1}
if [ "$COPIES" -gt 1 ]; then
  columns="process_id, aspirant_id, office_id, collector_id, paper, captured_at, received_at, latitude, longitude, credential_json, precheck_json, content_sha256, status, citizen_clave, preliminary_outcome, outcome, duplicate_of, outcome_snapshot_id, verified_at, captured_by_user_id, citizen_section, roll_key"
  sqlite3 "$WORK/data/apoyo.sqlite3" "
    CREATE TEMP TABLE base AS SELECT * FROM supports;
    WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < $COPIES - 1)
    INSERT INTO supports (client_id, sequence, $columns)
      SELECT base.client_id || '-copy-' || k.n, base.sequence + k.n * (SELECT MAX(sequence) FROM base), $columns
      FROM base, k ORDER BY k.n, base.id;"
fi
password=$("$APOYO" admin create --email bench@apoyo.test --name "Benchmark" 2>/dev/null | grep -oE '[A-Za-z0-9]{16,}' | tail -1)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
APOYO_LISTEN=127.0.0.1:$PORT APOYO_PUBLIC_URL=http://127.0.0.1:$PORT "$APOYO" serve >"$WORK/serve.log" 2>&1 &
SERVER=$!
URL=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
login() {
  curl -sf -H 'content-type: application/json' -d "{\"email\":\"bench@apoyo.test\",\"password\":\"$1\"}" "$URL/api/v1/session" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])'
}
token=$(login "$password")
new_password=Benchmark-$RANDOM-$RANDOM-password
curl -sf -X PUT -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d "{\"current_password\":\"$password\",\"new_password\":\"$new_password\"}" "$URL/api/v1/session/password" >/dev/null
token=$(login "$new_password")
hwm() { awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER/status"; }
supports=$(sqlite3 "$WORK/data/apoyo.sqlite3" 'SELECT COUNT(*) FROM supports')
process=$(sqlite3 "$WORK/data/apoyo.sqlite3" 'SELECT process_id FROM supports GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1')
echo "# report download: $supports supports, profile $PROFILE, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "server peak RSS after start and login: $(hwm)"
for file in apoyos.csv apoyos.xlsx; do
  stats=$(curl -sf -o "$WORK/$file" -w '%{size_download} %{time_total}' -H "authorization: Bearer $token" \
    "$URL/console/reports/processes/$process/$file")
  rows=$([ "$file" = apoyos.csv ] && echo "$(( $(wc -l <"$WORK/$file") - 1 )) rows" || echo "zip")
  echo "$file: ${stats% *} bytes ($rows) in ${stats#* } s; server peak RSS: $(hwm)"
  rm -f "$WORK/$file"
done
