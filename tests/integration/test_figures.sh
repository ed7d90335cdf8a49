#!/usr/bin/env bash
# What the district sees (DOMAIN.md sections 7 and 9): a district seeded
# through real agents, on days the server's clock is set to, then every figure
# of every command checked against numbers worked out by hand below.
# The story is figures_seed.sh's.
# Figures are read on 20/06/2024 09:00 (CCHC_CLOCK).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/figures_seed.sh"
figures_seed
pass "district seeded: 13 reports accepted through 6 agents, 1 superseded, 1 refused, 2 exemptions"

export CCHC_CLOCK=2024-06-20T09:00:00+07:00
cchc() { "$CCHC_BIN/cchc" "$@"; }
# q JSON_FILE EXPR: a value of the JSON with Python (rows are a list).
q() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# ---- status and rates --------------------------------------------------------------
# 2024Q1: 30 expected - 1 exempt = 29; reported 4 (Vân Sơn, Tư pháp, Đại Sơn on
# time, Hữu Sản late); missing 29 - 4 = 25, overdue since 18/03.
#   reporting rate 4/29 = 13.793 -> 13.79; on-time rate 3/29 = 10.345 -> 10.34
# 2024S1: 29; reported 3 (Vân Sơn, Hữu Sản on time, Đại Sơn late); 26 missing.
#   reporting rate 3/29 = 10.345 -> 10.34; on-time rate 2/29 = 6.897 -> 6.90
cchc status --rates --type cchc_dk --json >"$T/rates.json"
rate() { q "$T/rates.json" "[' '.join(str(r[k]) for k in ('expected','reported','on_time','late','overdue','not_yet_due','exempt','reporting_rate','on_time_rate')) for r in d if r['period']=='$1'][0]"; }
[ "$(rate 2024Q1)" = "29 4 3 1 25 0 1 13.79 10.34" ] || fail "2024Q1 rates: $(rate 2024Q1)"
[ "$(rate 2024S1)" = "29 3 2 1 26 0 1 10.34 6.9" ] || fail "2024S1 rates: $(rate 2024S1)"
# Q3 (due 17/09) is not due yet: 30 units, none reported, no exemption.
[ "$(rate 2024Q3)" = "30 0 0 0 0 30 0 0.0 0.0" ] || fail "2024Q3 rates: $(rate 2024Q3)"
pass "rates: 2024Q1 13.79 % reported, 10.34 % on time; 2024S1 10.34 %, 6.90 %"

cchc status --period 2024s1 --json >"$T/s1.json"   # a period id in lower case
[ "$(q "$T/s1.json" "len(d)")" = 30 ] || fail "2024S1 rows: $(q "$T/s1.json" "len(d)")"
st() { q "$T/s1.json" "[(r['status'],r['working_days_late'],r['basis'],r['met_at']) for r in d if r['unit']=='$1'][0]"; }
[ "$(st xa-van-son)" = "('on_time', 0, 'received', '2024-06-17T02:00:00.000Z')" ] \
  || fail "Vân Sơn S1 is judged on its first revision: $(st xa-van-son)"
[ "$(st xa-dai-son)" = "('late', 1, 'received', '2024-06-19T02:00:00.000Z')" ] || fail "Đại Sơn: $(st xa-dai-son)"
[ "$(st p-tp)" = "('exempt', 0, None, None)" ] || fail "Tư pháp: $(st p-tp)"
# Overdue since 18/06: working days 19/06 and 20/06.
[ "$(st xa-an-ba)" = "('overdue', 2, None, None)" ] || fail "An Bá: $(st xa-an-ba)"
cchc status --period 2024Q1 --unit xa-huu-san --json >"$T/q1hs.json"
[ "$(q "$T/q1hs.json" "(d[0]['status'], d[0]['working_days_late'])")" = "('late', 3)" ] \
  || fail "Hữu Sản Q1: 19, 20 and 21/03 late"
cchc status --period 2024S1 --status overdue --csv >"$T/overdue.csv"
python3 - "$T/overdue.csv" <<'PY' || fail "status CSV"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig")))
assert rows[0][:6] == ["Loại báo cáo", "Kỳ / đối tượng", "Mã đơn vị", "Đơn vị", "Hạn nộp", "Tình trạng"], rows[0]
assert len(rows) == 1 + 26, len(rows)
assert all(r[5] == "quá hạn" for r in rows[1:])
assert any(r[3] == "Xã Đại Sơn" for r in rows[1:]) is False   # Đại Sơn reported (late)
assert open(sys.argv[1], "rb").read(3) == b"\xef\xbb\xbf"
PY
pass "status: each unit's status, basis and working days late; CSV with BOM and Vietnamese headers"

# Text tables line up by display width, not bytes: every cell of a column
# starts at the same terminal column, whatever its diacritics.
cchc status --period 2024S1 --type CCHC_DK >"$T/status.txt"
python3 - "$T/status.txt" <<'PY' || fail "the text table does not line up: $(head -n 5 "$T/status.txt")"
import re, sys, unicodedata
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = open(sys.argv[1], encoding="utf-8").read().split("\n\n")[0].splitlines()
starts = None
for line in lines:
    cols = [width(line[:m.start()]) for m in re.finditer(r"(?:^|(?<=  ))\S", line)]
    starts = starts or cols
    assert cols == starts, (line, cols, starts)
assert len(lines) == 31 and any("Xã Đại Sơn" in l for l in lines)
PY
grep -q "^CCHC_DK 2024S1: 29 phải nộp, 3 đã nộp (tỷ lệ báo cáo 10.34%), 2 đúng hạn (tỷ lệ đúng hạn 6.90%)" \
  "$T/status.txt" || fail "status footer: $(tail -n 2 "$T/status.txt")"
pass "text table aligned by display width; rates under it"

# ---- dossiers ----------------------------------------------------------------------
# 2024S1, latest revisions: Vân Sơn revision 2, Hữu Sản, Đại Sơn.
#   HO_TICH   carried 4+1+0=5, online 35+10+6=51, direct 47+30+14=91 -> received 147
#             early 52+20+8=80, on time 24+15+12=51, late 3+1+0=4 -> resolved 135
#             pending in time 6+4+0=10, overdue 1+1+0=2 -> 12   (147 = 135 + 12)
#             on-time rate (80+51)/135 = 97.037 -> 97.04; online 51/142 = 35.915 -> 35.92
#   CHUNG_THUC (Vân Sơn) 0+12+140 = 152; 150+2+0 = 152: 100.00; online 12/152 -> 7.89
#   DAT_DAI   (Hữu Sản) 3+0+12 = 15; 2+8+2 = 12; pending 3: 10/12 -> 83.33; online 0.00
#   total     received 314, resolved 299 (232+61+6), pending 15 (13+2):
#             on time 293/299 = 97.993 -> 97.99; online 63/306 = 20.588 -> 20.59
# Revision 1 (online 31) would make HO_TICH's online 47: it must not count.
cchc dossiers --period 2024S1 --json >"$T/dos.json"
drow() { q "$T/dos.json" "[' '.join(str(r[k]) for k in ('units','carried_over','new_online','new_direct_postal','received','resolved_early','resolved_on_time','resolved_late','resolved','pending_in_time','pending_overdue','pending','on_time_rate','online_share','overdue_backlog')) for r in d if r['field'] == $1][0]"; }
[ "$(drow "'HO_TICH'")" = "3 5 51 91 147 80 51 4 135 10 2 12 97.04 35.92 2" ] || fail "HO_TICH: $(drow "'HO_TICH'")"
[ "$(drow "'CHUNG_THUC'")" = "1 0 12 140 152 150 2 0 152 0 0 0 100.0 7.89 0" ] || fail "CHUNG_THUC: $(drow "'CHUNG_THUC'")"
[ "$(drow "'DAT_DAI'")" = "1 3 0 12 15 2 8 2 12 3 0 3 83.33 0.0 0" ] || fail "DAT_DAI: $(drow "'DAT_DAI'")"
[ "$(drow None)" = "3 8 63 243 314 232 61 6 299 13 2 15 97.99 20.59 2" ] || fail "total: $(drow None)"
[ "$(q "$T/dos.json" "[r['total'] for r in d]")" = "[False, False, False, True]" ] || fail "total row last"
# 2024Q1: HO_TICH 3 units: received 32+20+20 = 72, resolved 28+20+19 = 67, on time 64/67 -> 95.52
#   total: received 72+65+40 = 177, resolved 67+65+38 = 170, early+on time 167: 98.24;
#   online 30 / new 173 = 17.341 -> 17.34
cchc dossiers --period 2024Q1 --json >"$T/dos.json"
[ "$(drow "'HO_TICH'")" = "3 3 16 53 72 30 34 3 67 4 1 5 95.52 23.19 1" ] || fail "Q1 HO_TICH: $(drow "'HO_TICH'")"
[ "$(drow None)" = "4 4 30 143 177 110 57 3 170 6 1 7 98.24 17.34 1" ] || fail "Q1 total: $(drow None)"
# Per unit: Vân Sơn's S1 is its revision 2 alone: 86 + 152 = 238 received.
cchc dossiers --period 2024S1 --by unit --json >"$T/dos.json"
[ "$(q "$T/dos.json" "[(r['received'], r['resolved'], r['on_time_rate']) for r in d if r['unit']=='xa-van-son']")" \
  = "[(238, 231, 98.7)]" ] || fail "Vân Sơn by unit: $(q "$T/dos.json" "[r for r in d if r['unit']=='xa-van-son']")"
# (52+24+150+2)/(79+152) = 228/231 = 98.701 -> 98.70
cchc dossiers --period 2024S1 --by unit-field --unit xa-huu-san --field dat_dai --csv >"$T/dos.csv"
python3 - "$T/dos.csv" <<'PY' || fail "dossiers CSV"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))
assert len(rows) == 2 and rows[0]["Lĩnh vực"] == "DAT_DAI" and rows[0]["Đơn vị"] == "Xã Hữu Sản", rows
assert rows[1]["Mã đơn vị"] == "Tổng cộng" and rows[1]["Tỷ lệ đúng hạn (%)"] == "83.33", rows[1]
PY
pass "dossiers: district totals per field with rates; the revised report counted once, with its latest figures"

# ---- overdue dossiers ----------------------------------------------------------------
# 2024S1: Vân Sơn's 4 (3 resolved late, 1 pending) + Hữu Sản's 4 (HO_TICH 1 late
# and 1 pending, DAT_DAI 2 late) = 8; 2024Q1: 2 + 2 = 4.
cchc overdue --period 2024S1 --json >"$T/od.json"
[ "$(q "$T/od.json" "len(d)")" = 8 ] || fail "overdue S1: $(q "$T/od.json" "len(d)")"
[ "$(q "$T/od.json" "sorted(r['state'] for r in d).count('pending')")" = 2 ] || fail "pending"
[ "$(q "$T/od.json" "[(r['cause'][:18], r['apology_number'], r['working_days_late']) for r in d if r['dossier_code']=='000.26.35.H03-240402-0007'][0]")" \
  = "('Phải xác minh giấy', '01/PXL-UBND', 2)" ] || fail "Vân Sơn's dossier 0007: $(cat "$T/od.json" | head -c 600)"
# (due 05/04 Fri, resolved 09/04 Tue: 08/04 and 09/04 = 2 working days)
[ "$(cchc overdue --period 2024Q1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 4 ] \
  || fail "overdue Q1"
[ "$(cchc overdue --period 2024S1 --field dat_dai --csv | python3 -c 'import csv,sys,io; print(len(list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")))))')" = 3 ] \
  || fail "overdue --field"
pass "overdue: every overdue dossier with cause, remedy and apology slip"

# ---- remediation ----------------------------------------------------------------------
# KT-2024-05: 4 findings, 2 remedied -> 50.00; KT-2024-06: 2 of 2 -> 100.00;
# total 4 of 6 -> 66.67. KT-2024-06 was due 14/06 (24/05 + 15 working days)
# and answered 17/06: late by 1 working day.
cchc remediation --json >"$T/rem.json"
[ "$(q "$T/rem.json" "[(r['inspection'], r['findings'], r['remedied'], r['in_progress'], r['not_remedied'], r['open'], r['completion_rate'], r['report_status']) for r in d]")" \
  = "[('KT-2024-05', 4, 2, 1, 1, 0, 50.0, 'on_time'), ('KT-2024-06', 2, 2, 0, 0, 0, 100.0, 'late'), (None, 6, 4, 1, 1, 0, 66.67, None)]" ] \
  || fail "remediation: $(q "$T/rem.json" "d")"
cchc remediation --findings --status not_remedied --json >"$T/remf.json"
[ "$(q "$T/remf.json" "[(r['inspection'], r['finding_no'], r['cause'][:24], r['expected_by']) for r in d]")" \
  = "[('KT-2024-05', 4, 'Chưa có kinh phí mua sắm', '2025-03-31')]" ] || fail "findings: $(q "$T/remf.json" "d")"
pass "remediation: completion per inspection (50.00 %, 100.00 %), causes and plans per finding"

# ---- tasks -----------------------------------------------------------------------------
# KH87-03 (due 31/05): 17 lead units; done only Vân Sơn (done on 30/05). Hữu Sản
# at 60 % and Đại Sơn done on 03/06 are overdue, like the 14 that never
# reported: done 1/17 = 5.88 %; average of the reports (100+60+100)/3 = 86.7.
cchc tasks --json >"$T/tasks.json"
tk() { q "$T/tasks.json" "[(r['leads'], r['done'], r['overdue'], r['in_progress'], r['not_reported'], r['done_rate'], r['avg_percent'], r['state']) for r in d if r['task']=='$1'][0]"; }
[ "$(tk KH87-03)" = "(17, 1, 16, 0, 0, 5.88, 86.7, 'overdue')" ] || fail "KH87-03: $(tk KH87-03)"
[ "$(tk KH87-07)" = "(1, 0, 0, 1, 0, 0.0, 60.0, 'in_progress')" ] || fail "KH87-07 at 60 %: $(tk KH87-07)"
cchc tasks --by unit --unit xa-huu-san --json >"$T/tu.json"
[ "$(q "$T/tu.json" "[(r['task'], r['percent'], r['state']) for r in d if r['percent'] is not None]")" \
  = "[('KH87-03', 60, 'overdue')]" ] || fail "Hữu Sản at 60 %: $(q "$T/tu.json" "d")"
[ "$(cchc tasks --by unit --status done --json | python3 -c 'import json,sys; print([(r["task"], r["unit"]) for r in json.load(sys.stdin)])')" \
  = "[('KH87-03', 'xa-van-son')]" ] || fail "only Vân Sơn's KH87-03 is done"
# Per dimension: D5 (maintain) 1 task, overdue; D7 (improve) KH87-07 and
# KH87-08, both in progress; 12 tasks, of which only KH87-03 is overdue.
cchc tasks --by dimension --json >"$T/dim.json"
[ "$(q "$T/dim.json" "[(r['dimension'], r['target'], r['tasks'], r['done'], r['overdue'], r['in_progress']) for r in d if r['dimension'] in ('D5','D7',None)]")" \
  = "[('D5', 'maintain', 1, 0, 1, 0), ('D7', 'improve', 2, 0, 0, 2), (None, None, 12, 0, 1, 11)]" ] \
  || fail "dimensions: $(q "$T/dim.json" "d")"
pass "tasks: the task at 60 % is not done; done only when reported done by the due date"

# ---- agents ------------------------------------------------------------------------------
cchc agents --json >"$T/agents.json"
# Open in June 2024: the province, the district, 13 offices, 2 towns, 15 communes.
[ "$(q "$T/agents.json" "len(d)")" = 32 ] || fail "agents: open units in 2024: $(q "$T/agents.json" "len(d)")"
ag() { q "$T/agents.json" "[(r['last_seen'], r['queue_depth'], r['refused_open'], r['active_keys']) for r in d if r['unit']=='$1'][0]"; }
# The queue is what the agent said at its last Hello: 1 report to send, which
# it then delivered before it stopped (run --drain).
[ "$(ag xa-huu-san)" = "('2024-06-18T02:00:00.000Z', 1, 1, 1)" ] || fail "Hữu Sản: $(ag xa-huu-san)"
[ "$(ag xa-van-son)" = "('2024-06-19T02:00:00.000Z', 1, 0, 1)" ] || fail "Vân Sơn: $(ag xa-van-son)"
# Never heard from first, then the oldest contact (Tư pháp, 15/03).
[ "$(q "$T/agents.json" "[r['unit'] for r in d if r['last_seen']][:2]")" = "['p-tp', 'xa-yen-dinh']" ] \
  || fail "agents order: $(q "$T/agents.json" "[r['unit'] for r in d]")"
pass "agents: last contact, queue, refused and not fixed, oldest first"

# ---- the consolidated report ---------------------------------------------------------------
# Read back by openpyxl (Debian's python3-openpyxl, so /usr/bin/python3): each
# sheet has its Vietnamese header row frozen, numbers as numbers, dates as
# dates, and its total row, whose figures are the ones worked out above.
cchc summary --period 2024s1 --out "$T/tong-hop.xlsx" >"$T/out.txt" || fail "summary xlsx"
grep -q "wrote $T/tong-hop.xlsx" "$T/out.txt" || fail "summary: $(cat "$T/out.txt")"
/usr/bin/python3 - "$T/tong-hop.xlsx" <<'PY' || fail "the workbook does not read back right"
import datetime, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
want = {  # sheet: (a header, the label cell, {header: total})
    "Hoàn thành": ("Đúng hạn", "Mã đơn vị", {"Phải nộp": 29, "Đã nộp": 3, "Đúng hạn": 2,
                   "Chậm hạn": 1, "Quá hạn": 26, "Miễn nộp": 1, "Tỷ lệ báo cáo (%)": 10.34,
                   "Tỷ lệ đúng hạn (%)": 6.9}),
    "Hồ sơ (Mẫu 06)": ("Tổng tiếp nhận", "Lĩnh vực", {"Tổng tiếp nhận": 314,
                       "Tổng đã giải quyết": 299, "Tỷ lệ đúng hạn (%)": 97.99,
                       "Tỷ lệ trực tuyến (%)": 20.59}),
    "Hồ sơ quá hạn": ("Nguyên nhân", "Mã đơn vị", {"STT": 8}),
    "Khắc phục": ("Tỷ lệ hoàn thành (%)", "Mã kiểm tra", {"Số tồn tại": 6, "Đã khắc phục": 4,
                  "Tỷ lệ hoàn thành (%)": 66.67}),
    "Nhiệm vụ": ("Cải thiện: số nhiệm vụ", "Chỉ số", {"Duy trì: số nhiệm vụ": 7,
                 "Duy trì: quá hạn": 1, "Cải thiện: số nhiệm vụ": 5}),
    "Chưa báo cáo": ("Tình trạng", "Loại báo cáo", {"STT": 26}),
}
assert wb.sheetnames == list(want), wb.sheetnames
for name, (header, label, totals) in want.items():
    ws = wb[name]
    head = [c.value for c in ws[1]]
    assert header in head, (name, head)
    assert ws.freeze_panes == "A2", (name, ws.freeze_panes)
    last = {h: c for h, c in zip(head, ws[ws.max_row])}
    assert last[label].value == "Tổng cộng", (name, [c.value for c in ws[ws.max_row]])
    for h, v in totals.items():
        assert last[h].data_type == "n" and last[h].value == v, (name, h, last[h].value)
ws = wb["Hồ sơ quá hạn"]
head = [c.value for c in ws[1]]
row = {h: c for h, c in zip(head, ws[2])}
assert row["Ngày tiếp nhận"].is_date and row["Ngày tiếp nhận"].value == datetime.datetime(2024, 5, 6)
assert row["Nguyên nhân"].value.startswith("Nguyên nhân cụ thể của hồ sơ số 5")
PY
cchc summary --period 2024S1 --out "$T/tong-hop.html" >/dev/null || fail "summary html"
python3 - "$T/tong-hop.html" <<'PY' || fail "the page is not what it should be"
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.tags = {}; self.totals = 0; self.refs = []
    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "total": self.totals += 1
        self.refs += [v for k, v in attrs if k in ("src", "href")]
page = open(sys.argv[1], encoding="utf-8").read()
p = P(); p.feed(page)
assert p.tags.get("table") == 6 and p.tags.get("h2") == 6 and p.tags.get("thead") == 6, p.tags
assert p.totals == 6, p.totals
assert not p.refs and "<script" not in page and "@import" not in page, p.refs  # self-contained
assert "@page" in page and "Tổng cộng" in page and "Số liệu từ ngày 15/12/2023 đến ngày 14/06/2024" in page
PY
set +e; cchc summary --period 2024S1 --out "$T/x.pdf" >/dev/null 2>"$T/err.txt"; rc=$?; set -e
[ $rc = 2 ] && grep -q "must end in .xlsx" "$T/err.txt" || fail "summary to .pdf: $rc"
set +e; cchc summary --period 2031Q1 --out "$T/x.xlsx" >/dev/null 2>"$T/err.txt"; rc=$?; set -e
[ $rc = 1 ] && grep -q "no periodic report type has a period 2031Q1" "$T/err.txt" && [ ! -e "$T/x.xlsx" ] \
  || fail "summary of an unknown period: $rc"
pass "summary: .xlsx read back by openpyxl (headers, totals, numbers, dates, frozen header) and a self-contained .html"

# ---- the views, for psql or a BI tool as a viewer ------------------------------------------
sql "CREATE ROLE lanh_dao LOGIN IN ROLE cchc_viewer"
[ "$(PGUSER=lanh_dao sql "select reporting_rate || ' ' || on_time_rate from cchc_completeness
                          where type_code = 'CCHC_DK' and period = '2024S1'")" = "10.34 6.90" ] \
  || fail "a viewer reads the rates from psql"
for v in cchc_status cchc_completeness cchc_dossiers cchc_dossier_units cchc_dossier_fields \
         cchc_dossier_district cchc_overdue_dossiers cchc_remediation cchc_remediation_findings \
         cchc_tasks cchc_task_units cchc_task_dimensions cchc_agents cchc_agents_all; do
  PGUSER=lanh_dao sql "select count(*) from $v" >/dev/null || fail "a viewer cannot read $v"
done
[ "$(PGUSER=lanh_dao sql "select sum(received) from cchc_dossier_district where period = '2024S1'")" = 314 ] \
  || fail "district total from psql"
PGUSER=lanh_dao cchc dossiers --period 2024S1 --json >/dev/null || fail "a viewer runs cchc dossiers"
set +e; PGUSER=lanh_dao sql "delete from expectations" 2>/dev/null; rc=$?; set -e
[ $rc != 0 ] || fail "a viewer changed something"
pass "the views: a cchc_viewer login reads every figure from psql, and changes nothing"

# ---- report list --type --period -----------------------------------------------------------
[ "$(cchc report list --type cchc_dk --period 2024s1 --json | python3 -c 'import json,sys; print(sorted((r["unit"], r["revision"], r["status"]) for r in json.load(sys.stdin)))')" \
  = "[('xa-dai-son', 1, 'accepted'), ('xa-huu-san', 1, 'accepted'), ('xa-van-son', 1, 'superseded'), ('xa-van-son', 2, 'accepted')]" ] \
  || fail "report list --type --period"
pass "report list --type --period"

# ---- bad filters: usage errors, nothing printed on stdout -------------------------------
for args in "status --period 2024Q5" "status --status late --rates" "dossiers --by unit --field X" \
            "tasks --dimension D9" "tasks --status blocked" "agents --period 2024S1" \
            "overdue --json --csv" "remediation --status remedied" "status extra"; do
  set +e; cchc $args >"$T/out.txt" 2>"$T/err.txt"; rc=$?; set -e
  [ $rc = 2 ] || fail "cchc $args: exit $rc"
  [ ! -s "$T/out.txt" ] || fail "cchc $args printed on stdout"
  grep -q "usage: cchc" "$T/err.txt" || fail "cchc $args: no usage"
done
set +e; cchc status --unit no-such-unit >/dev/null 2>"$T/err.txt"; rc=$?; set -e
[ $rc = 1 ] && grep -q "unknown unit 'no-such-unit'" "$T/err.txt" || fail "unknown unit: $rc"
pass "bad filters: exit 2 with the reason and the usage"

# ---- 1 July 2025: a closed unit keeps its history, and no new obligation ------------------
"$CCHC_BIN/cchc-server" -c "$T/server.ini" --tick-at 2025-09-16T08:00:00+07:00 >>"$T/tick.log" 2>&1 \
  || fail "tick 2025"
export CCHC_CLOCK=2025-09-20T09:00:00+07:00
n() { cchc status --period "$1" --unit "$2" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
[ "$(n 2025S1 xa-van-son)" = 1 ] || fail "xa-van-son (closed 30/06/2025) is expected for 2025S1"
[ "$(n 2025Q3 xa-van-son)" = 0 ] || fail "xa-van-son is expected for 2025Q3"
[ "$(n 2025Q3 07621)" = 1 ] || fail "07621 (Xã Vân Sơn from 01/07/2025) is not expected for 2025Q3"
[ "$(cchc agents --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 9 ] \
  || fail "agents in September 2025: the 8 new communes and the province"
[ "$(cchc agents --all --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), sum(not r["open"] for r in d))')" = "41 32" ] \
  || fail "agents --all"
pass "a unit closed on 2025-06-30 appears in 2025S1 and not in 2025Q3; closed units only with --all"
