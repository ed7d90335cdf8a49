#!/usr/bin/env bash
# Hostile input (issue 6, Security).
# (A) 10,000 random and mutated frames from an authenticated agent: the
#     server stays up, stores nothing bad, keeps serving a well-behaved agent,
#     stops cleanly, and its log has no sanitizer report.
# (B) Report text holding SQL, shell metacharacters, format specifiers,
#     Vietnamese, a text at the length limit, one over it, invalid UTF-8 and
#     NULs: refused with a finding, or stored byte-exact; never executed.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup; server_start
agent_setup ab xa-an-ba     # its key is the fuzzer's
agent_setup vs xa-van-son   # the well-behaved agent
report_for xa-an-ba periodic.json "$T/ab.json"

# ---- (A) fuzz -------------------------------------------------------------------
SEED=20240620
set +e
tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/ab/agent" \
  --report "$T/ab.json" --fuzz 10000 --seed $SEED --timeout 20000 >"$T/fuzz.out" 2>"$T/fuzz.err"
rc=$?
set -e
cat "$T/fuzz.out"
[ $rc = 0 ] || fail "fuzz client: exit $rc: $(cat "$T/fuzz.out" "$T/fuzz.err")"
FUZZ=$(grep '^FUZZ ' "$T/fuzz.out") || fail "no FUZZ summary"
fz() { echo "$FUZZ" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
[ "$(fz sent)" = 10000 ] || fail "not every frame was sent: $FUZZ"
[ "$(fz missing)" = 0 ] && [ "$(fz stalls)" = 0 ] || fail "answers missing: $FUZZ"
[ "$(fz busy)" = 0 ] || fail "the server answered BUSY inside the window: $FUZZ"
[ "$(fz undecodable)" = 0 ] || fail "the server sent something undecodable: $FUZZ"
for k in malformed unsupported invalid unit_mismatch acks; do
  [ "$(fz $k)" -gt 0 ] || fail "the fuzz never reached '$k': $FUZZ"
done
grep -q '^FINAL \(ACK .* duplicate=0\|NACK .* reason=INVALID codes=E\)' "$T/fuzz.out" \
  || fail "the valid report after the fuzz got no verdict: $(grep FINAL "$T/fuzz.out")"
kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died under the fuzz"
pass "10000 fuzz frames answered as their kind calls for; the connection still works"

# Nothing bad stored: only the fuzzer's unit; each row accepted (or superseded)
# without an error, or rejected with its errors; one accepted row per report;
# no parts of a rejected report; the unit in the body is the row's unit.
[ "$(sql "select count(*) from reports where unit_code <> 'xa-an-ba'")" = 0 ] \
  || fail "rows for another unit: $(sql "select unit_code, count(*) from reports group by 1")"
errs="exists (select 1 from jsonb_array_elements(findings) f where f->>'code' like 'E%')"
bad=$(sql "select count(*) from reports where not (
             (status in ('accepted', 'superseded') and not $errs)
             or (status = 'rejected' and $errs and jsonb_array_length(findings) > 0))
           or body->>'unit' is distinct from unit_code or msg_id <= 0
           or (status = 'superseded') <> (superseded_by is not null)")
[ "$bad" = 0 ] || fail "$bad bad rows: $(sql "select id, status, findings from reports limit 5")"
[ "$(sql "select count(*) from (select 1 from reports where status = 'accepted'
          group by report_type, unit_code, period, subject having count(*) > 1) x")" = 0 ] \
  || fail "two accepted revisions of one report"
[ "$(sql "select count(*) from reports s join reports a on a.id = s.superseded_by where a.revision <= s.revision")" = 0 ] \
  || fail "E007 bypassed: a revision was superseded by one not newer"
[ "$(sql "select (select count(*) from dossier_rows d join reports r on r.id = d.report_id
                  where r.status = 'rejected')
               + (select count(*) from overdue_dossiers d join reports r on r.id = d.report_id
                  where r.status = 'rejected')
               + (select count(*) from remediation_items d join reports r on r.id = d.report_id
                  where r.status = 'rejected')
               + (select count(*) from task_progress d join reports r on r.id = d.report_id
                  where r.status = 'rejected')")" = 0 ] || fail "parts of a rejected report stored"
stored=$(sql "select string_agg(status || '=' || n, ' ' order by status)
              from (select status, count(*) n from reports group by 1) x")
echo "stored by the fuzz: $stored"
[ "$(sql "select count(distinct status) from reports where status in ('accepted', 'rejected')")" = 2 ] \
  || fail "the fuzz stored no accepted or no rejected report ($stored): the check above proves nothing"
pass "nothing bad stored ($stored)"

agent vs submit "$FIX/periodic.json" >/dev/null || fail "the good report was refused offline"
agent vs run --drain --timeout 30 >>"$T/agent-vs.log" 2>&1 || fail "the good agent was not served"
[ "$(sql "select count(*) || ' ' || min(status) from reports where unit_code = 'xa-van-son'")" \
  = "1 accepted" ] || fail "the good report: $(sql "select status, findings from reports where unit_code = 'xa-van-son'")"
pass "a well-behaved agent is served after the fuzz; its report stored once"

# ---- (B) hostile text -------------------------------------------------------------
# Three more units: hx's report carries the hostile strings, lim's the texts
# at the length limit, and wire's key sends raw bytes (tclient --text).
agent_setup hx xa-vinh-an
agent_setup lim xa-thanh-luan
agent_setup wire xa-huu-san
report_for xa-huu-san periodic.json "$T/wire.json"
audit_n=$(sql "select count(*) from audit_log")
audit_max=$(sql "select coalesce(max(id), 0) from audit_log")
[ "$audit_n" -gt 0 ] || fail "audit_log is empty before (B): the check after it would prove nothing"
reports_n=$(sql "select count(*) from reports")

# The reports, built with json.dumps so the quoting is exact. Every string is
# NFC: the pipeline normalises text to NFC on entry (DOMAIN.md section 4), so
# only NFC input can come back byte-exact; one NFD string checks that very
# normalisation. A shell that ran any of them would leave $T/pwned*.
# hostile.tsv: unit, label, JSON path in body, overdue_dossiers "seq column"
# or -, the hex of the text expected back; pat/LABEL: that text as
# `cchc report show` prints it (a JSON string's inside, jansson's escapes).
mkdir -p "$T/pat"
T="$T" FIX="$FIX" python3 - <<'PY'
import json, os, unicodedata
T, FIX = os.environ["T"], os.environ["FIX"]
LIMIT = 65536  # CCHC_REPORT_MAX_TEXT, bytes
base = json.load(open(os.path.join(FIX, "periodic.json"), encoding="utf-8"))
bs = "\\"
hostile = [  # label, path in the report, text
    ("sql_drop", ("narrative", "results"), "'); DROP TABLE reports; --"),
    ("sql_or", ("narrative", "shortcomings"), "' OR '1'='1"),
    ("sql_dollar", ("narrative", "causes"), "$$; DELETE FROM audit_log; $$"),
    ("sh_subst", ("narrative", "next_tasks"), f"$(touch {T}/pwned)"),
    ("sh_backtick", ("narrative", "proposals"), f"`touch {T}/pwned2`"),
    ("vi_signer", ("document", "signer"), "Nguyễn Thị Hường"),
    ("sh_rm", ("document", "capacity"), "; rm -rf / ;"),
    ("sh_pipe", ("overdue_dossiers", 0, "cause"), f"| tee {T}/pwned3"),
    ("sh_and", ("overdue_dossiers", 0, "remedy"), f"true && touch {T}/pwned4 && echo đã xử lý"),
    ("newlines", ("overdue_dossiers", 0, "procedure"), "dòng một\ndòng hai\r\ndòng ba\tcột\n"),
    ("quotes", ("overdue_dossiers", 1, "cause"), "Trích \"kép\", 'đơn', “cong” ‘cong’; '' \"\" '\""),
    ("backslash", ("overdue_dossiers", 1, "remedy"),
     f"C:{bs}new{bs}table{bs}{bs} {bs}\" {bs}u0000 {bs}x00 {bs}0 {bs}n {bs}"),
    ("format", ("overdue_dossiers", 1, "procedure"), "%s%n%x%p%99999999d%%%c%ls%1$s%-*.*s"),
    ("vi_text", ("overdue_dossiers", 2, "cause"),
     "Công chức địa chính – xây dựng nghỉ ốm đột xuất; hồ sơ chuyển Ủy ban nhân dân huyện "
     "Sơn Động thẩm định lại. Ưu tiên, khẩn trương: ỹ ỵ ự ữ ẫ ẩ ậ ẳ ặ ở ợ Đ đ Ơ Ư."),
    ("mixed", ("overdue_dossiers", 2, "remedy"),
     f"x'); DELETE FROM reports WHERE '1'='1'; -- $(touch {T}/pwned5) `id` %n\n\"{bs}"),
    ("psql_meta", ("overdue_dossiers", 2, "procedure"), f"{bs}! touch {T}/pwned6\n{bs}gexec\n;{bs}q"),
    ("json_break", ("initiatives", 0, "title"), '"}, "status": "accepted", "x": {"'),
    ("html", ("initiatives", 0, "status"), "<img src=x onerror=alert(1)> đang triển khai"),
    ("ifs", ("communication", 0, "form"), f"${{IFS}}cat${{IFS}}/etc/passwd>{T}/pwned7"),
    ("sql_union", ("communication", 1, "form"), "/* */ UNION SELECT secret_key FROM agent_keys --"),
]
nfd = unicodedata.normalize("NFD", "Đăng ký khai sinh lưu động cho đồng bào Dao")

def put(doc, path, value):
    for k in path[:-1]:
        doc = doc[k]
    doc[path[-1]] = value

def at_limit(n, seed):
    # n bytes of NFC text mixing Vietnamese (2- and 3-byte) and hostile ASCII.
    out, size = [], 0
    while True:
        for ch in seed:
            b = len(ch.encode())
            if size + b > n:
                out.append("x" * (n - size))
                s = "".join(out)
                assert len(s.encode()) == n and unicodedata.is_normalized("NFC", s)
                return s
            out.append(ch)
            size += b

rows = []
def expect(unit, label, path, text):
    p = ",".join(str(k) for k in path)
    col = f"{path[1] + 1} {path[2]}" if path[0] == "overdue_dossiers" else "-"
    rows.append(f"{unit}\t{label}\t{p}\t{col}\t{text.encode().hex()}")
    with open(f"{T}/pat/{label}", "w", encoding="utf-8") as f:
        f.write(json.dumps(text, ensure_ascii=False)[1:-1] + "\n")

hx = json.loads(json.dumps(base))
hx["unit"] = "xa-vinh-an"
for label, path, text in hostile:
    assert unicodedata.is_normalized("NFC", text), label
    put(hx, path, text)
    expect("xa-vinh-an", label, path, text)
put(hx, ("overdue_dossiers", 3, "procedure"), nfd)
assert nfd != unicodedata.normalize("NFC", nfd)
expect("xa-vinh-an", "nfd_to_nfc", ("overdue_dossiers", 3, "procedure"), unicodedata.normalize("NFC", nfd))

lim = json.loads(json.dumps(base))
lim["unit"] = "xa-thanh-luan"
seed = "Kết quả CCHC ' ; $(x) %n \\ \" ệ Ữ ợ "
limit_results = at_limit(LIMIT, seed)
limit_cause = at_limit(LIMIT, "Nguyên nhân: ' OR 1=1 -- ẵ ẫ ậ | tee /dev/null ")
put(lim, ("narrative", "results"), limit_results)
put(lim, ("overdue_dossiers", 0, "cause"), limit_cause)
expect("xa-thanh-luan", "limit_results", ("narrative", "results"), limit_results)
expect("xa-thanh-luan", "limit_cause", ("overdue_dossiers", 0, "cause"), limit_cause)
over = json.loads(json.dumps(lim))
put(over, ("narrative", "results"), limit_results + "x")

def dump(doc, name):
    with open(f"{T}/{name}", "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
dump(hx, "hx.json"); dump(lim, "lim.json"); dump(over, "lim-over.json")

# Bytes no JSON file can carry as text: a NUL (as \u0000 and as a raw byte)
# and invalid UTF-8 in the file the agent reads.
def raw_file(name, raw):
    doc = json.loads(json.dumps(lim))
    put(doc, ("narrative", "causes"), "@RAW@")
    with open(f"{T}/{name}", "wb") as f:
        f.write(json.dumps(doc, ensure_ascii=False).encode().replace(b"@RAW@", raw))
raw_file("nul-escaped.json", b"ab\\u0000cd")
raw_file("nul-raw.json", b"ab\x00cd")
raw_file("bad-utf8.json", b"ab\xc3\x28cd")
# For the wire (tclient --text): the text's raw bytes.
wire = {
    "invalid": b"ab\xc3\x28cd", "overlong": b"ab\xc0\xafcd", "surrogate": b"ab\xed\xa0\x80cd",
    "beyond": b"ab\xf4\x90\x80\x80cd", "truncated": b"abc\xe1\xbb", "continuation": b"\x80abc",
    "nul": b"ab\x00cd", "over": (limit_results + "x").encode(),
}
for k, v in wire.items():
    with open(f"{T}/raw-{k}.bin", "wb") as f:
        f.write(v)
with open(f"{T}/hostile.tsv", "w", encoding="utf-8") as f:
    f.write("\n".join(rows) + "\n")
PY

# Refused offline (E050), nothing queued: over the limit, a NUL (escaped or
# raw), invalid UTF-8.
queued() { agent lim status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["queued"]+d["delivered"]+d["refused"])'; }
for c in "lim-over.json:E050 \$.narrative.results: .*65537 byte" \
         "nul-escaped.json:E050 \\\$: .*u0000" "bad-utf8.json:E050 \\\$: .*0xc3" \
         "nul-raw.json:E050 \\\$: .*control character 0x0"; do
  f=${c%%:*} want=${c#*:}
  set +e; agent lim submit "$T/$f" >"$T/submit.out" 2>&1; rc=$?; set -e
  [ $rc = 1 ] || fail "$f: submit exit $rc: $(cat "$T/submit.out")"
  grep -q "^  $want" "$T/submit.out" || fail "$f: no '$want' finding: $(cat "$T/submit.out")"
  grep -q 'nothing was queued' "$T/submit.out" || fail "$f: no 'nothing was queued'"
  [ "$(queued)" = 0 ] || fail "$f was queued"
done
pass "over the limit, NUL and invalid UTF-8 refused offline (exit 1, E050), nothing queued"

agent hx submit "$T/hx.json" >"$T/submit.out" 2>&1 || fail "hostile report refused offline: $(cat "$T/submit.out")"
agent lim submit "$T/lim.json" >"$T/submit.out" 2>&1 || fail "limit report refused offline: $(cat "$T/submit.out")"
agent hx run --drain --timeout 30 >>"$T/agent-hx.log" 2>&1 || fail "hx not drained"
agent lim run --drain --timeout 30 >>"$T/agent-lim.log" 2>&1 || fail "lim not drained"
HX=$(sql "select id from reports where unit_code = 'xa-vinh-an' and status = 'accepted'")
LIM=$(sql "select id from reports where unit_code = 'xa-thanh-luan' and status = 'accepted'")
[ -n "$HX" ] && [ -n "$LIM" ] || fail "not accepted: $(sql "select unit_code, status, findings
  from reports where unit_code in ('xa-vinh-an', 'xa-thanh-luan')")"
[ "$(sql "select count(*) from reports")" = $((reports_n + 2)) ] || fail "not exactly two more rows"
pass "the hostile report and the one at the length limit accepted"

# Byte-exact: the body's JSON, the overdue_dossiers column, the packed
# payload, `cchc report show`. Hex goes to psql on stdin (one argument may
# not exceed 128 KiB).
sqlin() { psql -X -q -t -A -v ON_ERROR_STOP=1; }
declare -A RID=([xa-vinh-an]=$HX [xa-thanh-luan]=$LIM)
"$CCHC_BIN/cchc" report show "$HX" >"$T/show-hx.out" || fail "report show $HX"
"$CCHC_BIN/cchc" report show "$LIM" >"$T/show-lim.out" || fail "report show $LIM"
n=0
while IFS=$'\t' read -r unit label path col hex; do
  id=${RID[$unit]}
  got=$(sql "select encode(convert_to(body #>> '{$path}', 'UTF8'), 'hex') from reports where id = $id")
  [ "$got" = "$hex" ] || fail "$label: body #>> {$path} is not byte-exact: ${got:0:200}"
  if [ "$col" != - ]; then
    got=$(sql "select encode(convert_to(${col#* }, 'UTF8'), 'hex') from overdue_dossiers
               where report_id = $id and seq = ${col%% *}")
    [ "$got" = "$hex" ] || fail "$label: overdue_dossiers.$col is not byte-exact: ${got:0:200}"
  fi
  [ "$(sqlin <<<"select position(decode('$hex', 'hex') in payload) > 0 from reports where id = $id")" = t ] \
    || fail "$label: not in the stored payload"
  out=$T/show-hx.out; [ "$unit" = xa-vinh-an ] || out=$T/show-lim.out
  grep -qF -f "$T/pat/$label" "$out" || fail "$label: cchc report show does not print it verbatim"
  n=$((n + 1))
done <"$T/hostile.tsv"
[ $n = 23 ] || fail "$n strings checked, 23 expected"
# Raw in the human form too where JSON needs no escape (a shell would have
# expanded these).
grep -qF "\$(touch $T/pwned)" "$T/show-hx.out" && grep -qF "\`touch $T/pwned2\`" "$T/show-hx.out" \
  && grep -qF "'); DROP TABLE reports; --" "$T/show-hx.out" || fail "report show altered the text"
# --json gives the texts back exactly (parsed, compared as strings).
"$CCHC_BIN/cchc" report show "$HX" --json >"$T/show-hx.json" || fail "report show --json"
python3 - "$T/show-hx.json" "$T/hostile.tsv" <<'PY' || fail "report show --json differs from what was sent"
import json, sys
body = json.load(open(sys.argv[1], encoding="utf-8"))["body"]
for line in open(sys.argv[2], encoding="utf-8"):
    unit, label, path, col, hexs = line.rstrip("\n").split("\t")
    if unit != "xa-vinh-an":
        continue
    v = body
    for k in path.split(","):
        v = v[int(k)] if k.isdigit() else v[k]
    if v.encode() != bytes.fromhex(hexs):
        sys.exit(f"{label}: {v!r}")
PY
pass "$n hostile texts stored byte-exact (body, overdue_dossiers, payload) and shown verbatim"

# Raw bytes over the wire: invalid UTF-8 and a NUL are MALFORMED (nothing in
# the frame is trusted), over the limit is INVALID with E050; nothing stored.
wmsg=100
for k in invalid overlong surrogate beyond truncated continuation nul over; do
  for field in narrative.causes document.signer; do
    wmsg=$((wmsg + 1))
    out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/wire/agent" \
      --report "$T/wire.json" --text "$field" "$T/raw-$k.bin" --msg-id $wmsg) || fail "$k in $field: tclient: $out"
    if [ $k = over ]; then
      echo "$out" | grep -q "^NACK msg_id=$wmsg reason=INVALID" \
        && echo "$out" | grep -qx "FINDING code=E050 path=\$.$field" || fail "$k in $field: $out"
    else
      echo "$out" | grep -q "^NACK msg_id=0 reason=MALFORMED detail=field .* is not valid UTF-8 or holds a NUL" \
        || fail "$k in $field: $out"
    fi
  done
done
kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died on raw text"
# The over-long texts are kept as rejected rows (the server records every
# refusal), byte-exact; the malformed frames left nothing.
over=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().hex())' "$T/raw-over.bin")
[ "$(sql "select string_agg(msg_id || ' ' || status || ' ' || (findings->0->>'code') || ' '
            || (findings->0->>'path') || ' ' || jsonb_array_length(findings), ',' order by msg_id)
          from reports where unit_code = 'xa-huu-san'")" \
  = "$((wmsg - 1)) rejected E050 \$.narrative.causes 1,$wmsg rejected E050 \$.document.signer 1" ] \
  || fail "raw text stored: $(sql "select msg_id, status, findings from reports where unit_code = 'xa-huu-san'")"
for p in narrative,causes document,signer; do
  [ "$(sqlin <<<"select encode(convert_to(body #>> '{$p}', 'UTF8'), 'hex') = '$over'
                 from reports where unit_code = 'xa-huu-san' and findings->0->>'path' = '\$.${p/,/.}'")" = t ] \
    || fail "the rejected over-long $p is not byte-exact"
done
pass "raw bytes over the wire: invalid UTF-8 and NUL refused MALFORMED, over the limit INVALID E050; only the two refusals stored"

# Never executed: no marker file, every table there, audit_log whole.
for f in pwned pwned2 pwned3 pwned4 pwned5 pwned6 pwned7; do
  [ ! -e "$T/$f" ] || fail "$T/$f exists: a text was executed"
done
[ "$(sql "select count(*) from unnest(array['reports', 'audit_log', 'units', 'agent_keys',
          'overdue_dossiers']) t where to_regclass(t) is null")" = 0 ] || fail "a table is gone"
[ "$(sql "select count(*) from reports")" = $((reports_n + 4)) ] || fail "reports lost or added"
[ "$(sql "select count(*) from audit_log where id <= $audit_max")" = "$audit_n" ] \
  || fail "audit_log rows deleted"
[ "$(sql "select count(*) from audit_log")" -ge "$audit_n" ] || fail "audit_log shrank"
pass "nothing executed: no marker file, tables there, $audit_n audit rows still there"

# ---- the end: a clean stop and a clean log --------------------------------------------
kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
[ $rc = 0 ] || fail "server exit code $rc on SIGTERM"
grep -q 'event=shutdown' "$T/server.log" || fail "no shutdown log line"
if grep -n 'AddressSanitizer\|LeakSanitizer\|runtime error\|UndefinedBehaviorSanitizer' "$T/server.log" >&2; then
  fail "sanitizer report in the server log"
fi
pass "server stopped cleanly (exit 0), no sanitizer report"
