#!/usr/bin/env bash
# A throwaway S3-compatible server for the tests (moto's server, from PyPI), on loopback.
#
#   eval "$(.ci/s3.sh start)"   # prints: export APOYO_TEST_S3_URL=s3://apoyo-test AWS_… APOYO_TEST_S3_PID=…
#   .ci/s3.sh stop              # stops it
#
# The virtualenv is kept in target/s3-venv (reused by later runs; not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.6
VENV=target/s3-venv
BUCKET=apoyo-test

case "${1:-}" in
  start)
    if ! "$VENV/bin/python" -c "import moto, flask" 2>/dev/null; then
      python3 -m venv "$VENV" >&2
      "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
    fi
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    LOG=$(mktemp /tmp/apoyo-s3.XXXXXX.log)
    # The module, not the console script: a venv moved with its target directory keeps
    # working (scripts carry the old path in their first line).
    nohup "$VENV/bin/python" -m moto.server -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do
      curl -sf -o /dev/null "http://127.0.0.1:$PORT/moto-api/" && break
      kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
      sleep 0.2
    done
    # The bucket, as any S3 client would create it (path-style PUT).
    curl -sf -X PUT "http://127.0.0.1:$PORT/$BUCKET" -o /dev/null ||
      { echo "s3.sh: cannot create the bucket" >&2; cat "$LOG" >&2; exit 1; }
    echo "export APOYO_TEST_S3_URL=s3://$BUCKET"
    echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT"
    echo "export AWS_ACCESS_KEY_ID=apoyo-test"
    echo "export AWS_SECRET_ACCESS_KEY=apoyo-test-secret"
    echo "export AWS_REGION=us-east-1"
    echo "export AWS_ALLOW_HTTP=true"
    echo "export APOYO_TEST_S3_PID=$PID"
    ;;
  stop)
    kill "${APOYO_TEST_S3_PID:?APOYO_TEST_S3_PID is not set: run with the variables start printed}" 2>/dev/null || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
