#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and benchmarks, on loopback.
#
#   eval "$(.ci/postgres.sh start)"   # prints: export APOYO_TEST_POSTGRES_URL=… APOYO_TEST_POSTGRES_DIR=…
#   .ci/postgres.sh stop              # stops it and removes its directory
#
# Uses the PostgreSQL server binaries of the machine (initdb, pg_ctl; PG_BIN overrides
# where they are). initdb refuses to run as root, so the cluster runs as the system user
# apoyo-pg (created if missing). Trust authentication on 127.0.0.1 only; settings for
# speed (no fsync) unless APOYO_PG_DURABLE=1, which keeps the defaults (benchmarks).
set -euo pipefail

find_bin() {
  local name=$1
  for dir in ${PG_BIN:-} /usr/local/bin /usr/lib/postgresql/*/bin; do
    [ -x "$dir/$name" ] && { echo "$dir/$name"; return; }
  done
  command -v "$name" || { echo "postgres.sh: $name not found (install the PostgreSQL server, or set PG_BIN)" >&2; exit 1; }
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u apoyo-pg -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    INITDB=$(find_bin initdb)
    PG_CTL=$(find_bin pg_ctl)
    if [ "$(id -u)" = 0 ] && ! id apoyo-pg >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin apoyo-pg
    fi
    DIR=$(mktemp -d /tmp/apoyo-pg.XXXXXX)
    chmod 755 "$DIR"
    [ "$(id -u)" = 0 ] && chown apoyo-pg "$DIR"
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_pg "$INITDB" -D "$DIR/data" -U apoyo --auth=trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
      { cat "$DIR/initdb.log" >&2; exit 1; }
    {
      echo "port = $PORT"
      echo "listen_addresses = '127.0.0.1'"
      echo "unix_socket_directories = '$DIR'"
      echo "max_connections = 400"
      if [ "${APOYO_PG_DURABLE:-}" != 1 ]; then
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
      fi
    } >> "$DIR/data/postgresql.conf"
    as_pg "$PG_CTL" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null ||
      { cat "$DIR/server.log" >&2; exit 1; }
    echo "export APOYO_TEST_POSTGRES_URL=postgres://apoyo@127.0.0.1:$PORT/postgres"
    echo "export APOYO_TEST_POSTGRES_DIR=$DIR"
    ;;
  stop)
    DIR=${APOYO_TEST_POSTGRES_DIR:?APOYO_TEST_POSTGRES_DIR is not set: run with the variables start printed}
    as_pg "$(find_bin pg_ctl)" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
