#!/usr/bin/env bash
# Safe upgrades (issue 13). A district's database made by the schema before
# migration checksums (018: tests/fixtures/db-018, made with that build by
# tests/fixtures/make-db-018.sh) is upgraded by this build's server, and its
# data is intact: every table's rows, the reports byte for byte, the figures
# the CLI prints; then a new report is accepted. A database where an applied
# migration was edited (its recorded sha256 is not the embedded file's) or
# renamed, one newer than the build, and one holding a migration the build
# does not carry are refused by `cchc migrate` and by cchc-server alike, with
# the fix, and nothing is written. deploy/backup.sh: a backup, the database and
# the cluster's cchc roles dropped, a restore: the same rows, and the server
# starts on it.
. "$(dirname "$0")/lib.sh"
D=$FIX/db-018
db_start
cchc() { "$CCHC_BIN/cchc" "$@"; }

# load_018 DB: the fixture restored into a new database DB, as on a district's
# cluster (the roles cchc_* are the cluster's, made once by migration 011).
load_018() {
  psql -X -q -d postgres -c "create database $1" || fail "create database $1"
  gunzip -c "$D/db.sql.gz" | psql -X -q -v ON_ERROR_STOP=1 -d "$1" >"$T/load-$1.log" 2>&1 \
    || fail "the 018 fixture does not load into $1: $(tail -n 3 "$T/load-$1.log")"
}
psql -X -q -d postgres -c "create role cchc_viewer nologin; create role cchc_operator nologin in role cchc_viewer;
                           create role cchc_admin nologin in role cchc_operator" || fail "roles"
load_018 cchc
export PGDATABASE=cchc

# columns FILE: every table of the schema with its columns, one line each.
columns() {
  sql "select table_name || ' ' || string_agg(quote_ident(column_name), ',' order by ordinal_position)
         from information_schema.columns
        where table_schema = 'public'
          and table_name in (select tablename from pg_tables where schemaname = 'public')
        group by table_name order by table_name" >"$1"
}
# snapshot COLUMNS [SKIP]: per table, its row count and the md5 of its rows
# (those columns only, rows sorted), but table SKIP.
snapshot() {
  local t cols
  while read -r t cols; do
    [ "$t" = "${2:-}" ] && continue
    echo "$t $(sql "select count(*) || ' ' || coalesce(md5(string_agg(x, E'\n' order by x)), '-')
                     from (select row($cols)::text x from $t) s")"
  done <"$1"
}
# reports_md5 COLUMNS: the reports in id order, as make-db-018.sh summed them.
reports_md5() {
  sql "select md5(string_agg(row($(awk '$1 == "reports" { print $2 }' "$1"))::text, E'\n' order by id))
         from reports"
}

# ---- the fixture, as the 018 build left it ---------------------------------------------
[ "$(sql "select max(version) from schema_migrations")" = 18 ] || fail "the fixture is not at 018"
while read -r t n; do
  [ "$(sql "select count(*) from $t")" = "$n" ] || fail "fixture table $t: $(sql "select count(*) from $t") rows, made with $n"
done <"$D/tables.txt"
columns "$T/cols18.txt"
[ "$(reports_md5 "$T/cols18.txt")" = "$(cat "$D/reports.md5")" ] || fail "fixture reports differ from the ones made"
[ "$(sql "select count(*) from reports")" -ge 15 ] && [ "$(sql "select count(*) from notifications")" -gt 0 ] \
  && [ "$(sql "select count(*) from inspections")" = 2 ] && [ "$(sql "select count(*) from plan_tasks")" -gt 0 ] \
  && [ "$(sql "select count(*) from agent_keys where revoked_at is not null")" -ge 1 ] \
  || fail "the fixture lacks the data it should hold"
snapshot "$T/cols18.txt" schema_migrations >"$T/before.txt"
sm18() { sql "select string_agg(row(version, name, applied_at)::text, ',' order by version)
                from schema_migrations where version <= 18"; }
SM18=$(sm18)
# This build's CLI does not read a schema it has not migrated.
cchc status --period 2024S1 >/dev/null 2>"$T/err.txt" && fail "cchc status read a schema at 018"
grep -q "database schema is at version 18, this build knows .*run 'cchc migrate'" "$T/err.txt" \
  || fail "status on 018: $(cat "$T/err.txt")"
pass "fixture at schema 018 loaded: $(wc -l <"$D/tables.txt") tables as made, $(sql "select count(*) from reports") reports; this build's CLI asks for a migration"

# ---- the new server upgrades it ------------------------------------------------------------
PORT=$(free_port)
ENDPOINT="tcp://127.0.0.1:$PORT"
"$CCHC_BIN/cchc-server" --keygen "$T/server" >/dev/null
# No scheduler: nothing but the migrations may change the data at start.
cat >"$T/server.ini" <<INI
[server]
endpoint = $ENDPOINT
public_key = server.pub
secret_key = server.key
shutdown_grace_ms = 5000
[scheduler]
enabled = false
[database]
conninfo = host=$T/pg user=cchc dbname=cchc
[log]
level = debug
INI
server_start
grep -q 'event=migration_applied name=019_migration_checksums' "$T/server.log" || fail "019 not applied"
n_old=$(sql "select count(*) from schema_migrations where version <= 18")
grep -q "event=migrations_trusted count=$n_old " "$T/server.log" \
  || fail "the $n_old rows of 018 were not given checksums: $(grep migrat "$T/server.log")"
# Every row has the sha256 of its file (sha256sum of server/sql).
want=$(cd "$CCHC_SRC/server/sql" && for f in [0-9]*.sql; do echo "$((10#${f%%_*})) $(sha256sum "$f" | cut -c1-64)"; done)
[ "$(sql "select version || ' ' || coalesce(checksum, 'NULL') from schema_migrations order by version")" = "$want" ] \
  || fail "recorded checksums are not the files': $(sql "select version, checksum from schema_migrations order by version")"
pass "the new server applied 019+ and recorded the sha256 of the $n_old migrations of 018 (trust on first use)"

snapshot "$T/cols18.txt" schema_migrations >"$T/after.txt"
diff "$T/before.txt" "$T/after.txt" >"$T/diff.txt" || fail "data changed by the upgrade: $(cat "$T/diff.txt")"
[ "$(sm18)" = "$SM18" ] || fail "schema_migrations rows of 018 changed"
[ "$(reports_md5 "$T/cols18.txt")" = "$(cat "$D/reports.md5")" ] || fail "reports changed by the upgrade"
pass "every table's rows intact ($(wc -l <"$T/before.txt") tables, compared row by row), reports byte for byte"

# The figures the 018 build printed (make-db-018.sh) are printed again: every
# value it gave is the same (fields added since may be there too).
while read -r name args; do
  # shellcheck disable=SC2086
  cchc $args --json >"$T/fig-$name.json" 2>"$T/fig-$name.err" || fail "cchc $args: $(cat "$T/fig-$name.err")"
  python3 - "$D/figures/$name.json" "$T/fig-$name.json" <<'PY' || fail "cchc $args --json differs after the upgrade"
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
def same(a, b, path="$"):
    if isinstance(a, dict):
        assert isinstance(b, dict), path
        for k in a:
            assert k in b, "%s.%s is gone" % (path, k)
            same(a[k], b[k], "%s.%s" % (path, k))
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), "%s: %d rows, then %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, "%s[%d]" % (path, i))
    else:
        assert a == b, "%s: %r, then %r" % (path, a, b)
same(before, after)
PY
done <"$D/figures.txt"
pass "the CLI's figures are those of the 018 build: $(awk '{print $1}' "$D/figures.txt" | paste -sd' ')"

# A new report, through a real agent, is accepted.
agent_setup an-ba xa-an-ba
report_for xa-an-ba periodic.json "$T/an-ba.json"
agent an-ba submit "$T/an-ba.json" >>"$T/agent-an-ba.log" 2>&1 || fail "submit"
agent an-ba run --drain --timeout 30 >>"$T/agent-an-ba.log" 2>&1 || fail "the agent did not deliver"
[ "$(sql "select status from reports where unit_code = 'xa-an-ba'")" = accepted ] || fail "new report not accepted"
[ "$(agent an-ba status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])')" = 1 ] \
  || fail "the agent does not show it delivered"
pass "a new report is sent after the upgrade and accepted"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit"
SERVER_PID=

# cchc migrate upgrades a copy of the fixture as the server did.
load_018 cchc_cli
out=$(PGDATABASE=cchc_cli cchc migrate) || fail "cchc migrate on 018"
echo "$out" | grep -q "^schema at version $(sql "select max(version) from schema_migrations") (applied [1-9][0-9]*)" \
  && echo "$out" | grep -q "^recorded the checksums of $n_old migration(s) applied before checksums were kept" \
  || fail "cchc migrate on 018 said: $out"
[ "$(PGDATABASE=cchc_cli sql "select count(*) from schema_migrations where checksum is null")" = 0 ] || fail "NULL left"
psql -X -q -d postgres -c "drop database cchc_cli"
pass "cchc migrate upgrades the 018 fixture too, and says it trusted the $n_old old rows"

# ---- refused: edited, renamed, newer, foreign ----------------------------------------------
columns "$T/cols.txt"
# (pg_dump 15.14 writes a random \restrict key in each dump.)
state() { snapshot "$T/cols.txt"; pg_dump --schema-only -d cchc | grep -Ev '^\\(un)?restrict ' | md5sum; }
# refused WHAT REGEX SQL: after SQL, both programs exit 1 with a message
# matching REGEX, write nothing (not even the checksum that row 5, emptied
# here, would be given), and never listen; then the database is put back.
refused() {
  local what=$1 re=$2 rc=0
  sql "update schema_migrations set checksum = null where version = 5; $3"
  state >"$T/st-before.txt"
  cchc migrate >"$T/m.out" 2>"$T/m.err" || rc=$?
  [ "$rc" = 1 ] || fail "$what: cchc migrate exited $rc: $(cat "$T/m.out" "$T/m.err")"
  grep -Eq "^cchc: $re" "$T/m.err" || fail "$what: cchc migrate said: $(cat "$T/m.err")"
  rc=0
  timeout -k 5 60 "$CCHC_BIN/cchc-server" -c "$T/server.ini" >"$T/refused.log" 2>&1 || rc=$?
  [ "$rc" = 1 ] || fail "$what: cchc-server exited $rc"
  grep -Eq "event=start_failed err=\"?could not migrate the database: $re" "$T/refused.log" \
    || fail "$what: cchc-server said: $(tail -n 3 "$T/refused.log")"
  ! grep -q 'event=listening' "$T/refused.log" || fail "$what: cchc-server listened"
  state >"$T/st-after.txt"
  diff "$T/st-before.txt" "$T/st-after.txt" >"$T/diff.txt" || fail "$what: something was written: $(cat "$T/diff.txt")"
  [ "$(sql "select checksum is null from schema_migrations where version = 5")" = t ] || fail "$what: row 5 got a checksum"
  sql "$4"
  sql "update schema_migrations set checksum = '$(sha256sum "$CCHC_SRC"/server/sql/005_*.sql | cut -c1-64)' where version = 5"
  cchc migrate >/dev/null || fail "$what: not put back"
}
SUM3=$(sha256sum "$CCHC_SRC"/server/sql/003_functions.sql | cut -c1-64)
refused "an edited migration" \
  "migration 003_functions has changed since it was applied: the database recorded sha256 0{64}, this build carries $SUM3\. Never edit an applied migration; add a new one\. To go back, install the build whose server/sql/CHECKSUMS lists the recorded sha256 for 003_functions\.sql" \
  "update schema_migrations set checksum = repeat('0', 64) where version = 3" \
  "update schema_migrations set checksum = '$SUM3' where version = 3"
pass "an edited migration (recorded sha256 differs) is refused by cchc migrate and cchc-server, naming it, both checksums and the fix; nothing written"
# The CLI's other commands refuse it too.
sql "update schema_migrations set checksum = repeat('0', 64) where version = 3"
cchc status >/dev/null 2>"$T/err.txt" && fail "cchc status ran on an edited migration"
grep -q '^cchc: migration 003_functions has changed since it was applied' "$T/err.txt" || fail "status: $(cat "$T/err.txt")"
sql "update schema_migrations set checksum = '$SUM3' where version = 3"
pass "the CLI's other commands refuse it as well"

# 031_store_truncate shipped with two headers (stop 25's build: 6ee63d...;
# stop 26's and later: the file's): a database that recorded either is
# migrated, and any other sha256 for it is refused.
SUM31=$(sha256sum "$CCHC_SRC"/server/sql/031_store_truncate.sql | cut -c1-64)
sql "update schema_migrations set checksum = '6ee63dbad9604967f161671fb074d8429c5979de722577d897b387dee9d8826a' where version = 31"
cchc migrate >"$T/m.out" 2>&1 || fail "031 as stop 25 shipped it is refused: $(cat "$T/m.out")"
cchc status >/dev/null 2>"$T/err.txt" || fail "cchc status on 031 as stop 25 shipped it: $(cat "$T/err.txt")"
sql "update schema_migrations set checksum = '$SUM31' where version = 31"
refused "031 with a sha256 no build shipped" \
  "migration 031_store_truncate has changed since it was applied: the database recorded sha256 0{64}, this build carries $SUM31\." \
  "update schema_migrations set checksum = repeat('0', 64) where version = 31" \
  "update schema_migrations set checksum = '$SUM31' where version = 31"
pass "031 recorded as stop 25's build or as later builds shipped it is migrated; another sha256 for it is refused"

refused "a renamed migration" \
  "migration 3 was applied as 003_functions_v2, but this build carries it as 003_functions: never rename or edit an applied migration; add a new one" \
  "update schema_migrations set name = '003_functions_v2' where version = 3" \
  "update schema_migrations set name = '003_functions' where version = 3"
refused "a newer database" \
  "database schema is at version 9999 \(9999_future\), newer than this build \([0-9]+\): run the cchc-server and cchc that applied it, or a newer one" \
  "insert into schema_migrations (version, name, checksum) values (9999, '9999_future', repeat('a', 64))" \
  "delete from schema_migrations where version = 9999"
refused "a migration of another build" \
  "the database has migration 016_elsewhere \(version 16\), which this build does not carry" \
  "insert into schema_migrations (version, name, checksum) values (16, '016_elsewhere', repeat('b', 64))" \
  "delete from schema_migrations where version = 16"
pass "a renamed migration, a newer database and a migration of another build are refused alike; nothing written"

# ---- backup, drop, restore -------------------------------------------------------------------
cat >"$T/admin.ini" <<INI
[database]
conninfo = host=$T/pg user=cchc dbname=cchc   ; the district's database
INI
columns "$T/cols.txt"
snapshot "$T/cols.txt" >"$T/pre-backup.txt"
out=$("$CCHC_SRC/deploy/backup.sh" -c "$T/admin.ini" backup --dir "$T/backups") || fail "backup: $out"
file=$(echo "$out" | sed -n 's/^wrote \([^ ]*\) .*/\1/p')
[[ "$(basename "$file")" =~ ^cchc-cchc-[0-9]{8}T[0-9]{6}Z\.dump$ ]] || fail "backup file name: $out"
[ "$(stat -c %a "$file")" = 600 ] || fail "backup mode $(stat -c %a "$file")"
echo "$out" | grep -q "schema version $(sql "select max(version) from schema_migrations")" || fail "backup said: $out"
# Not over a database that holds data.
"$CCHC_SRC/deploy/backup.sh" -c "$T/admin.ini" restore "$file" >/dev/null 2>"$T/err.txt" && fail "restored over data"
grep -q 'database "cchc" is not empty' "$T/err.txt" || fail "restore over data said: $(cat "$T/err.txt")"
psql -X -q -d postgres -c "drop database cchc" -c "drop role cchc_admin, cchc_operator, cchc_viewer" || fail "drop"
out=$("$CCHC_SRC/deploy/backup.sh" -c "$T/admin.ini" restore "$file" 2>&1) || fail "restore: $out"
echo "$out" | grep -q '^created database cchc' && echo "$out" | grep -q "^restored $file into database cchc" \
  || fail "restore said: $out"
[ "$(sql "select string_agg(rolname, ',' order by rolname) from pg_roles where rolname like 'cchc\_%'")" \
  = cchc_admin,cchc_operator,cchc_viewer ] || fail "roles not made again"
snapshot "$T/cols.txt" >"$T/post-restore.txt"
diff "$T/pre-backup.txt" "$T/post-restore.txt" >"$T/diff.txt" || fail "restore differs: $(cat "$T/diff.txt")"
out=$(cchc migrate) || fail "migrate after restore"
echo "$out" | grep -q '(applied 0)$' && ! echo "$out" | grep -q recorded || fail "migrate after restore said: $out"
mv "$T/server.log" "$T/server-upgrade.log"
server_start
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit after restore"
SERVER_PID=
pass "backup ($(basename "$file")), drop of the database and roles, restore: $(wc -l <"$T/post-restore.txt") tables the same, checksums pass, the server starts"
