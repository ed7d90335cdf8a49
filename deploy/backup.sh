#!/usr/bin/env bash
# backup.sh: back up the district's cchc database, and restore it.
#
#   deploy/backup.sh [-c FILE.ini] backup [--dir DIR]
#       pg_dump (custom format) of the database into DIR (default: the current
#       directory) as cchc-DB-YYYYMMDDTHHMMSSZ.dump (UTC), mode 0600; the file
#       appears only once the dump is complete and readable back.
#   deploy/backup.sh [-c FILE.ini] restore FILE
#       restores FILE into the database, which must be empty or not exist (it
#       is then created, owned by the owner of the backed-up tables, the role
#       cchc-server runs as): all or nothing, in one transaction. The roles
#       cchc_viewer, cchc_operator and cchc_admin are created if the cluster
#       lacks them; the owner of the backed-up objects must exist. Then start
#       cchc-server (or run cchc migrate): it checks the migrations' checksums
#       and applies the newer ones.
#   deploy/backup.sh --help
#
# The database is the one of -c FILE's [database] conninfo (server.ini or
# admin.ini), or, without it or when it is empty, the PG* variables (PGHOST,
# PGDATABASE, PGUSER...). Run backup as the server's database user (or a
# superuser); run restore as the user that will run cchc-server, with
# CREATEROLE (or as a superuser). Logins of people (CREATE ROLE nam LOGIN IN
# ROLE cchc_operator) are cluster-wide and not in a backup: make them again on
# a new cluster. Exit status: 0 done, 1 failed (nothing half-done), 2 usage.
set -euo pipefail
PROG=backup.sh

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "$PROG: $*" >&2; exit 1; }
usage_error() { echo "$PROG: $*" >&2; echo "try '$0 --help'" >&2; exit 2; }

# ---- arguments -------------------------------------------------------------------------
CONFIG='' CMD='' FILE='' DIR=.
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -c|--config) [ $# -ge 2 ] || usage_error "$1 needs a file"; CONFIG=$2; shift 2 ;;
    --dir) [ $# -ge 2 ] || usage_error "--dir needs a directory"; DIR=$2; shift 2 ;;
    backup|restore) [ -z "$CMD" ] || usage_error "one command at a time ($CMD, $1)"; CMD=$1; shift ;;
    -*) usage_error "unknown option $1" ;;
    *) [ "$CMD" = restore ] && [ -z "$FILE" ] || usage_error "unexpected argument $1"
       FILE=$1; shift ;;
  esac
done
[ -n "$CMD" ] || usage_error "no command: say backup or restore"
[ "$CMD" = restore ] && [ -z "$FILE" ] && usage_error "restore needs the FILE to restore"
[ "$CMD" = restore ] && [ "$DIR" != . ] && usage_error "--dir is for backup"

for p in psql pg_dump pg_restore; do
  command -v "$p" >/dev/null || die "$p not found: install the PostgreSQL client (apt-get install postgresql-client, or deploy/install-deps.sh)"
done

# ---- the connection ----------------------------------------------------------------------
# [database] conninfo of an INI file: inih's rules (';' or '#' starts a comment
# line, ' ;' an inline comment), the last value wins.
ini_conninfo() {
  awk '
    { sub(/\r$/, "") }
    /^[ \t]*[;#]/ { next }
    /^[ \t]*\[/ { s = $0; sub(/^[ \t]*\[/, "", s); sub(/\].*$/, "", s); next }
    s == "database" && /^[ \t]*conninfo[ \t]*[=:]/ {
      v = $0; sub(/^[^=:]*[=:][ \t]*/, "", v); sub(/[ \t]+;.*$/, "", v); sub(/[ \t]+$/, "", v)
      found = v
    }
    END { print found }' "$1"
}
CONNINFO=
if [ -n "$CONFIG" ]; then
  [ -r "$CONFIG" ] || die "could not read configuration file \"$CONFIG\": $( [ -e "$CONFIG" ] && echo 'permission denied' || echo 'no such file')"
  CONNINFO=$(ini_conninfo "$CONFIG")
fi
WHERE=${CONFIG:+[database] conninfo of $CONFIG}
WHERE=${WHERE:-the PG* variables}
[ -n "$CONNINFO" ] || WHERE="the PG* variables${CONFIG:+ ($CONFIG has no [database] conninfo)}"

# with_db DB: the conninfo, pointed at database DB (a later keyword wins in
# libpq's key=value form; a URI gets its path replaced).
with_db() {
  local db=${1//\\/\\\\}; db=${db//\'/\\\'}
  case "$CONNINFO" in
    postgres://*|postgresql://*)
      local rest=${CONNINFO#*://} scheme=${CONNINFO%%://*} auth query=
      case "$rest" in *\?*) query="?${rest#*\?}"; rest=${rest%%\?*} ;; esac
      auth=${rest%%/*}
      printf '%s://%s/%s%s' "$scheme" "$auth" "$(printf %s "$1" | od -An -tx1 | tr -d ' \n' | sed 's/../%&/g')" "$query" ;;
    *) printf "%s dbname='%s'" "$CONNINFO" "$db" ;;
  esac
}

# The database the conninfo names, without connecting (libpq's rules: the last
# dbname keyword, else PGDATABASE, else the user name).
target_db() {
  local db=
  case "$CONNINFO" in
    postgres://*|postgresql://*)
      local rest=${CONNINFO#*://}; rest=${rest%%\?*}
      case "$rest" in */*) db=${rest#*/} ;; esac
      db=$(printf '%b' "${db//%/\\x}") ;;
    *)
      db=$(printf '%s\n' "$CONNINFO" | grep -oE "(^|[[:space:]])dbname[[:space:]]*=[[:space:]]*('([^'\\\\]|\\\\.)*'|[^[:space:]']+)" \
           | tail -n 1 | sed -E "s/^[[:space:]]*dbname[[:space:]]*=[[:space:]]*//; s/^'(.*)'$/\\1/; s/\\\\(.)/\\1/g") || true ;;
  esac
  [ -n "$db" ] || db=${PGDATABASE:-}
  [ -n "$db" ] || db=${PGUSER:-$(id -un)}
  printf '%s' "$db"
}

# q CONNINFO SQL [psql -v assignments...]: one query, unaligned, no header.
q() {
  local c=$1 s=$2; shift 2
  printf '%s\n' "$s" | psql -X -q -t -A -v ON_ERROR_STOP=1 "$@" -d "$c"
}

# ---- backup --------------------------------------------------------------------------------
do_backup() {
  local info db ver
  info=$(q "$CONNINFO" "SELECT to_regclass('schema_migrations') IS NOT NULL, current_database()" 2>&1) \
    || die "could not connect to the database given by $WHERE: ${info}"
  db=${info#*|}
  [ "${info%%|*}" = t ] || die "database \"$db\" is not a cchc database (it has no schema_migrations): check $WHERE"
  ver=$(q "$CONNINFO" "SELECT coalesce(max(version), 0) FROM schema_migrations" 2>&1) \
    || die "could not read schema_migrations of database \"$db\": $ver"
  mkdir -p -- "$DIR" 2>/dev/null || die "could not create directory \"$DIR\""
  [ -d "$DIR" ] && [ -w "$DIR" ] || die "could not write to directory \"$DIR\": check it exists and is writable"
  local out tmp
  out="$DIR/cchc-${db//\//_}-$(date -u +%Y%m%dT%H%M%SZ).dump"
  [ ! -e "$out" ] || die "\"$out\" already exists: wait a second and run again"
  tmp="$out.part"
  umask 077
  if ! pg_dump --format=custom --file="$tmp" --dbname="$CONNINFO" 2>"$tmp.err"; then
    local e; e=$(cat "$tmp.err"); rm -f -- "$tmp" "$tmp.err"
    die "pg_dump failed, no backup written: $e"
  fi
  rm -f -- "$tmp.err"
  local n
  n=$(pg_restore --list "$tmp" 2>/dev/null | grep -c '^[0-9]' || true)
  if [ "${n:-0}" -eq 0 ]; then rm -f -- "$tmp"; die "the dump written to \"$tmp\" cannot be read back: no backup written"; fi
  mv -- "$tmp" "$out"
  echo "wrote $out ($(du -h -- "$out" | cut -f1), database $db, schema version $ver, $n entries)"
}

# ---- restore -------------------------------------------------------------------------------
do_restore() {
  [ -f "$FILE" ] && [ -r "$FILE" ] || die "could not read \"$FILE\": $( [ -e "$FILE" ] && echo 'not a readable file' || echo 'no such file')"
  [ "$(head -c 5 -- "$FILE")" = PGDMP ] \
    || die "\"$FILE\" is not a backup made by $PROG (pg_dump's custom format): a plain SQL dump is restored with psql"
  local toc
  toc=$(pg_restore --list "$FILE" 2>&1) || die "\"$FILE\" cannot be read: ${toc}"
  grep -q ' TABLE public schema_migrations ' <<<"$toc" \
    || die "\"$FILE\" is not a backup of a cchc database (it has no schema_migrations)"

  # First everything that can refuse, then the writes: a refused restore
  # leaves the cluster as it was.
  local db maint exists e
  db=$(target_db)
  maint=$(with_db postgres)
  q "$maint" "SELECT 1" >/dev/null 2>&1 || maint=$(with_db template1)
  exists=$(q "$maint" "SELECT count(*) FROM pg_database WHERE datname = :'db'" -v db="$db" 2>&1) \
    || die "could not connect to the cluster given by $WHERE (as its database \"postgres\"): ${exists}"
  local target; target=$(with_db "$db")
  if [ "$exists" = 1 ]; then
    local used
    used=$(q "$target" "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                                 AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%')
                            + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                               WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))" 2>&1) \
      || die "could not connect to database \"$db\": ${used}"
    [ "$used" = 0 ] || die "database \"$db\" is not empty ($used tables, views, sequences or functions): restore only into an empty database. Stop cchc-server, then drop it (dropdb \"$db\") and run restore again, which creates it; or point $WHERE at another database"
  fi

  # Every owner named in the backup must exist: ownership is kept. (A TOC line
  # is "ID; OID OID TYPE SCHEMA NAME OWNER"; ENCODING and the like have none.)
  local owners o missing=''
  owners=$(awk '/^[0-9]+;/ && !/ $/ { print $NF }' <<<"$toc" | sort -u)
  for o in $owners; do
    case "$o" in cchc_viewer|cchc_operator|cchc_admin) continue ;; esac
    [ "$(q "$maint" "SELECT count(*) FROM pg_roles WHERE rolname = :'r'" -v r="$o")" = 1 ] || missing="$missing $o"
  done
  [ -z "$missing" ] || die "the backup's objects belong to role(s)$missing, which this cluster lacks: create them first (CREATE ROLE name LOGIN), then run restore again as one of them or as a superuser"

  # The group roles are the cluster's, so not in the backup; the migration
  # that made them (011) is not run again.
  e=$(q "$maint" "DO \$\$
      BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cchc_viewer') THEN
              CREATE ROLE cchc_viewer NOLOGIN;
          END IF;
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cchc_operator') THEN
              CREATE ROLE cchc_operator NOLOGIN IN ROLE cchc_viewer;
          END IF;
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cchc_admin') THEN
              CREATE ROLE cchc_admin NOLOGIN IN ROLE cchc_operator;
          END IF;
      END \$\$;" 2>&1) \
    || die "the cluster lacks the roles cchc_viewer, cchc_operator, cchc_admin and they could not be made: $e. Run restore as a superuser or a user with CREATEROLE"
  # Owned, like the tables, by the role the server runs as (the owner of
  # schema_migrations), whoever restores: migrations need CREATE on its schema.
  if [ "$exists" != 1 ]; then
    local owner
    owner=$(awk '/^[0-9]+;/ && / TABLE public schema_migrations / { print $NF }' <<<"$toc")
    e=$(q "$maint" 'CREATE DATABASE :"db" OWNER :"owner" TEMPLATE template0 ENCODING '"'UTF8'" \
          -v db="$db" -v owner="$owner" 2>&1) \
      || die "could not create database \"$db\" owned by $owner: $e"
    echo "created database $db (owner $owner)"
  fi

  local err
  err=$(pg_restore --exit-on-error --single-transaction --dbname="$target" "$FILE" 2>&1) \
    || die "restore failed, nothing restored (database \"$db\" is left empty): $err"
  q "$target" "ANALYZE" >/dev/null 2>&1 || true
  local ver reports
  ver=$(q "$target" "SELECT max(version) FROM schema_migrations")
  reports=$(q "$target" "SELECT count(*) FROM reports" 2>/dev/null || echo "?")
  echo "restored $FILE into database $db: schema version $ver, $reports reports"
  echo "next: start cchc-server with the build that made the backup or a newer one (or run cchc migrate): it checks the migrations' checksums and applies the newer ones"
}

case "$CMD" in
  backup) do_backup ;;
  restore) do_restore ;;
esac
