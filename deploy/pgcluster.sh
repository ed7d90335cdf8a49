# pgcluster.sh: a private, throwaway PostgreSQL cluster on a Unix socket.
# Sourced by deploy/demo.sh and tests/integration/lib.sh; never listens on TCP.
#
#   pgc_create DIR   initdb into DIR/data (socket in DIR), superuser "cchc", trust auth
#   pgc_start DIR    start it and wait until it accepts connections (fsync off,
#                    for tests; PGC_FSYNC=on and PGC_OPTS="-c k=v ..." for benchmarks)
#   pgc_stop DIR [fast|immediate]
#   pgc_env DIR      export PGHOST/PGUSER/PGDATABASE for it
# When run as root the cluster runs as the "postgres" user (PostgreSQL refuses
# root), so DIR must be reachable by that user: pgc_pick_dir finds one.

PGC_BIN=${PGC_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

pgc_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# pgc_pick_dir WANTED FALLBACK_PREFIX: prints WANTED if the cluster user can
# reach it and the socket path fits, else a fresh directory under /tmp.
pgc_pick_dir() {
  local want=$1 prefix=$2
  mkdir -p "$want"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$want"
    if ! runuser -u postgres -- test -w "$want" 2>/dev/null; then
      want=$(mktemp -d "/tmp/$prefix.XXXXXX")
      chmod 755 "$want"; chown postgres "$want"
    fi
  fi
  # Unix socket paths are limited to 107 bytes.
  if [ ${#want} -gt 80 ]; then
    want=$(mktemp -d "/tmp/$prefix.XXXXXX")
    chmod 755 "$want"
    [ "$(id -u)" -eq 0 ] && chown postgres "$want"
  fi
  echo "$want"
}

pgc_create() {
  local dir=$1
  if [ -z "$PGC_BIN" ] || [ ! -x "$PGC_BIN/initdb" ]; then
    echo "pgcluster: PostgreSQL server binaries not found under /usr/lib/postgresql: run deploy/install-deps.sh" >&2
    return 1
  fi
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
  pgc_as_owner "$PGC_BIN/initdb" -D "$dir/data" -A trust -U cchc -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || {
    echo "pgcluster: initdb failed, see $dir/initdb.log:" >&2; tail -n 5 "$dir/initdb.log" >&2; return 1; }
}

pgc_start() {
  local dir=$1
  pgc_as_owner "$PGC_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-k $dir -c listen_addresses='' -c fsync=${PGC_FSYNC:-off} -c max_connections=50 ${PGC_OPTS:-}" \
    start >/dev/null || {
    echo "pgcluster: could not start PostgreSQL, see $dir/postgres.log:" >&2
    tail -n 5 "$dir/postgres.log" >&2; return 1; }
}

pgc_stop() {
  local dir=$1 mode=${2:-fast}
  [ -f "$dir/data/postmaster.pid" ] || return 0
  pgc_as_owner "$PGC_BIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null 2>&1 || true
}

pgc_env() {
  export PGHOST=$1 PGUSER=cchc PGDATABASE=postgres
  unset PGPORT PGPASSWORD PGSERVICE
}
