"""The reports of test_figures.sh, written as JSON files an officer would
submit: python3 figures_seed.py FIXTURES_DIR OUT_DIR.

Every figure here is worked out by hand in test_figures.sh; keep the two in
step. A dossier row is (field, carried_over, new_online, new_direct_postal,
resolved_early, resolved_on_time, resolved_late, pending_in_time,
pending_overdue); each row needs resolved_late + pending_overdue entries in
overdue_dossiers (E016), made by od() with dates inside the period."""
import copy
import json
import sys

fix, out = sys.argv[1], sys.argv[2]
base = json.load(open(fix + "/periodic.json"))


def rows(*specs):
    keys = ("field", "carried_over", "new_online", "new_direct_postal", "resolved_early",
            "resolved_on_time", "resolved_late", "pending_in_time", "pending_overdue")
    return [dict(zip(keys, s)) for s in specs]


def od(n, field, received, pending=False):
    """An overdue dossier received on day `received` (YYYY-MM-DD, a Monday or
    Tuesday), due 3 days later, resolved 2 days after that unless pending."""
    y, m, d = (int(x) for x in received.split("-"))
    day = lambda k: "%04d-%02d-%02d" % (y, m, d + k)
    return {"code": "000.26.35.H03-%s-%04d" % (received.replace("-", "")[2:], n),
            "field": field, "procedure": "Thủ tục số %d" % n,
            "received": day(0), "due": day(3), "resolved": None if pending else day(5),
            "cause": "Nguyên nhân cụ thể của hồ sơ số %d: thiếu công chức thụ lý." % n,
            "remedy": "Biện pháp khắc phục hồ sơ số %d: phân công người trực thay." % n,
            "apology": {"number": "%02d/PXL-UBND" % n, "date": day(2), "new_due": day(9)}}


def periodic(name, unit, period, revision, date, dossiers, overdue):
    r = copy.deepcopy(base)
    r.update(unit=unit, period=period, revision=revision, dossiers=dossiers,
             overdue_dossiers=overdue)
    r["document"]["date"] = date
    json.dump(r, open("%s/%s.json" % (out, name), "w"), ensure_ascii=False, indent=1)


# ---- 2024Q1 (window 15/12/2023-14/03/2024, due 18/03/2024) -------------------
periodic("q1-van-son", "xa-van-son", "2024Q1", 1, "2024-03-15",
         rows(("HO_TICH", 2, 10, 20, 15, 12, 1, 3, 1), ("CHUNG_THUC", 0, 5, 60, 60, 5, 0, 0, 0)),
         [od(1, "HO_TICH", "2024-02-05"), od(2, "HO_TICH", "2024-02-19", pending=True)])
periodic("q1-tp", "p-tp", "2024Q1", 1, "2024-03-15",
         rows(("CHUNG_THUC", 1, 9, 30, 20, 18, 0, 2, 0)), [])
periodic("q1-dai-son", "xa-dai-son", "2024Q1", 1, "2024-03-18",
         rows(("HO_TICH", 0, 4, 16, 10, 10, 0, 0, 0)), [])
periodic("q1-huu-san", "xa-huu-san", "2024Q1", 1, "2024-03-21",
         rows(("HO_TICH", 1, 2, 17, 5, 12, 2, 1, 0)),
         [od(3, "HO_TICH", "2024-01-08"), od(4, "HO_TICH", "2024-01-15")])

# ---- 2024S1 (window 15/12/2023-14/06/2024, due 18/06/2024) -------------------
# Vân Sơn's revision 1 is the example; revision 2 changes its HO_TICH figures.
s1_overdue = base["overdue_dossiers"]
periodic("s1-van-son-1", "xa-van-son", "2024S1", 1, "2024-06-17",
         rows(("HO_TICH", 4, 31, 47, 50, 22, 3, 6, 1), ("CHUNG_THUC", 0, 12, 140, 150, 2, 0, 0, 0)),
         s1_overdue)
periodic("s1-van-son-2", "xa-van-son", "2024S1", 2, "2024-06-19",
         rows(("HO_TICH", 4, 35, 47, 52, 24, 3, 6, 1), ("CHUNG_THUC", 0, 12, 140, 150, 2, 0, 0, 0)),
         s1_overdue)
periodic("s1-huu-san", "xa-huu-san", "2024S1", 1, "2024-06-18",
         rows(("HO_TICH", 1, 10, 30, 20, 15, 1, 4, 1), ("DAT_DAI", 3, 0, 12, 2, 8, 2, 3, 0)),
         [od(5, "HO_TICH", "2024-05-06"), od(6, "HO_TICH", "2024-05-13", pending=True),
          od(7, "DAT_DAI", "2024-04-08"), od(8, "DAT_DAI", "2024-04-15")])
periodic("s1-dai-son", "xa-dai-son", "2024S1", 1, "2024-06-19",
         rows(("HO_TICH", 0, 6, 14, 8, 12, 0, 0, 0)), [])
# S2 is not one of CCHC_DK's periods: the server refuses it (E004) and
# nothing answers it later: one report refused and not fixed.
periodic("s2-huu-san", "xa-huu-san", "2024S2", 1, "2024-06-18",
         rows(("HO_TICH", 0, 6, 14, 8, 12, 0, 0, 0)), [])

# ---- remediation: KT-2024-06 of Vân Sơn, both findings remedied ---------------
rem = json.load(open(fix + "/remediation.json"))
rem.update(unit="xa-van-son", inspection="KT-2024-06", items=[
    {"finding": 1, "status": "remedied", "actions": "Đã bố trí công chức trực Một cửa cả ngày.",
     "evidence": ["Quyết định phân công số 20/QĐ-UBND"]},
    {"finding": 2, "status": "remedied", "actions": "Đã cập nhật sổ theo dõi hồ sơ điện tử.",
     "evidence": ["Sổ theo dõi tháng 6/2024"]}])
rem["document"]["date"] = "2024-06-17"
json.dump(rem, open(out + "/rem-van-son.json", "w"), ensure_ascii=False, indent=1)

# ---- task progress -----------------------------------------------------------
task = json.load(open(fix + "/task_progress.json"))


def progress(name, unit, code, status, percent):
    t = dict(task, unit=unit, task=code, status=status, percent=percent,
             result="Kết quả thực hiện nhiệm vụ %s của %s." % (code, unit))
    json.dump(t, open("%s/%s.json" % (out, name), "w"), ensure_ascii=False, indent=1)


progress("t03-van-son", "xa-van-son", "KH87-03", "done", 100)
progress("t03-huu-san", "xa-huu-san", "KH87-03", "in_progress", 60)
progress("t03-dai-son", "xa-dai-son", "KH87-03", "done", 100)
progress("t07-tnmt", "p-tnmt", "KH87-07", "in_progress", 60)
