#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster on a free local port, removed afterwards.
# Exports WC_TEST_DB=postgres, WC_PG_HOST, WC_PG_PORT and WC_PG_USER for tests/settings.py.
# With WC_PG_REPLICA=1 it also makes a streaming replica of that cluster (pg_basebackup -R, a hot standby on
# another free port, started with its own pg_ctl) and exports WC_PG_REPLICA_PORT for tests/test_read_replica.py.
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/wc-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root.
  chown postgres: "$WORK"
  RUNAS=(runuser -u postgres --)
fi
cleanup() {
  [ -d "$WORK/replica" ] && { "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/replica" -m immediate stop >/dev/null 2>&1 || true; }
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"${RUNAS[@]}" "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w \
  -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
export WC_TEST_DB=postgres WC_PG_HOST=127.0.0.1 WC_PG_PORT=$PORT WC_PG_USER=postgres
if [ "${WC_PG_REPLICA:-}" = "1" ]; then
  REPLICA_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  # A copy of the primary taken over its replication protocol; -R writes primary_conninfo and standby.signal, so
  # it starts as a read-only standby that streams (and replays) every later change, the test database included.
  "${RUNAS[@]}" "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PORT" -U postgres -D "$WORK/replica" -R -X stream -c fast
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/replica" -l "$WORK/replica.log" -w \
    -o "-p $REPLICA_PORT -k $WORK -c listen_addresses=127.0.0.1 -c hot_standby=on" start >/dev/null
  export WC_PG_REPLICA_PORT=$REPLICA_PORT
fi
"$@"
