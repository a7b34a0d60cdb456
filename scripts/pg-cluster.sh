#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests (Debian's postgresql package):
#   scripts/pg-cluster.sh start DIR   initdb in DIR, start on a free loopback port, create the
#                                     role and database `broadcastd`, write its URI to DIR/uri
#   scripts/pg-cluster.sh stop DIR    stop it (the folder is left for the logs)
#   scripts/pg-cluster.sh restart DIR restart it on the same port
# initdb refuses to run as root: as root the cluster belongs to the `postgres` user.
set -euo pipefail
action="${1:?usage: pg-cluster.sh start|stop|restart DIR}"
dir="${2:?usage: pg-cluster.sh start|stop|restart DIR}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bindir/pg_ctl" ] || { echo "pg-cluster: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 2; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$action" in
  start)
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
    port="$(free_port)"
    as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log"
    echo "$port" >"$dir/port"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    as_owner "$bindir/psql" -h "$dir" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE broadcastd LOGIN" -c "CREATE DATABASE broadcastd OWNER broadcastd" >/dev/null
    echo "postgresql://broadcastd@127.0.0.1:$port/broadcastd" >"$dir/uri"
    cat "$dir/uri"
    ;;
  stop)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  restart)
    port="$(cat "$dir/port")"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast \
      -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off" restart >/dev/null
    ;;
  *)
    echo "pg-cluster: unknown action $action (start, stop, restart)" >&2
    exit 2
    ;;
esac
