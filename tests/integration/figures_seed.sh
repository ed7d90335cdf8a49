# figures_seed.sh: the district of test_figures.sh, seeded through real
# agents on the days the server's clock is set to; sourced after lib.sh by
# the tests that read its figures (test_figures.sh, test_web*.sh).
#
# The story (CCHC_DK: 30 units must report, 13 offices, 2 towns, 15 communes):
#   2024Q1, due Mon 18/03: Vân Sơn and Phòng Tư pháp on 15/03, Đại Sơn on
#     18/03 (on time); Hữu Sản on 21/03 (late, 3 working days); An Châu
#     exempt; 25 units missing.
#   2024S1, due Tue 18/06: Vân Sơn revision 1 on 17/06 and revision 2 on
#     19/06 (on time, judged on revision 1; figures of revision 2); Hữu Sản
#     18/06 (on time); Đại Sơn 19/06 (late, 1 working day); Phòng Tư pháp
#     exempt; 25 missing. Hữu Sản also sent a 2024S2 report on 21/03, before
#     its agent first synced: refused by the server (E004), never fixed.
#   Inspections: KT-2024-05 of Yên Định (4 findings: 2 remedied, 1 in progress,
#     1 not remedied, answered 30/05, due 05/06: on time); KT-2024-06 of Vân
#     Sơn (2 findings, both remedied, answered 17/06, due 14/06: late).
#   Tasks: KH87-03 (D5, due Fri 31/05, 17 lead communes and towns): Vân Sơn
#     done 30/05, Hữu Sản 60 % on 30/05, Đại Sơn done 03/06 (after the due
#     date). KH87-07 (D7, due 31/10, Phòng TN&MT): 60 % on 17/06.
# The reports themselves are written by figures_seed.py.

# seed_at DAY HH:MM: the server (re)started with its clock there.
seed_at() {
  if [ -n "${SERVER_PID:-}" ]; then kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; fi
  SEED_PHASE=$((SEED_PHASE + 1))
  [ -f "$T/server.log" ] && mv "$T/server.log" "$T/server-$SEED_PHASE.log"
  NOW="$1T$2:00+07:00"
  CCHC_CLOCK=$NOW server_start
}

# seed_send UNIT REPORT...: the unit's officer submits and its agent delivers, now.
seed_send() {
  local u=$1 r; shift
  for r in "$@"; do
    CCHC_CLOCK=$NOW agent "$u" submit "$T/r/$r.json" >>"$T/agent-$u.log" 2>&1 \
      || fail "$u: $r refused offline: $(tail -n 5 "$T/agent-$u.log")"
  done
  CCHC_CLOCK=$NOW agent "$u" run --drain --timeout 30 >>"$T/agent-$u.log" 2>&1 \
    || fail "$u did not deliver $*"
}

# figures_seed: the cluster, the server's setup and the story above; the
# server is stopped at the end, after one scheduler tick at 20/06/2024 08:00
# and the two exemptions. Fails the test if any step does.
figures_seed() {
  db_start; server_setup; district_setup
  printf '[scheduler]\nenabled = false\n' >>"$T/server.ini"
  "$CCHC_BIN/cchc" inspection add xa-van-son --team "Đoàn kiểm tra CCHC huyện" \
    --date 2024-05-20 --conclusion 15/TB-UBND/2024-05-24 --code KT-2024-06 >/dev/null
  "$CCHC_BIN/cchc" finding add KT-2024-06 "Bộ phận Một cửa không có người trực buổi chiều" >/dev/null
  "$CCHC_BIN/cchc" finding add KT-2024-06 "Sổ theo dõi hồ sơ ghi chép không đầy đủ" >/dev/null

  mkdir -p "$T/r"
  python3 "$CCHC_SRC/tests/integration/figures_seed.py" "$FIX" "$T/r" || fail "seed reports"
  for u in xa-van-son xa-huu-san xa-dai-son p-tp xa-yen-dinh p-tnmt; do agent_setup "$u" "$u"; done

  SEED_PHASE=0
  seed_at 2024-03-15 09:00; seed_send xa-van-son q1-van-son; seed_send p-tp q1-tp
  seed_at 2024-03-18 10:00; seed_send xa-dai-son q1-dai-son
  seed_at 2024-03-21 10:00; seed_send xa-huu-san q1-huu-san s2-huu-san
  seed_at 2024-05-30 09:00
  CCHC_CLOCK=$NOW agent xa-yen-dinh submit "$FIX/remediation.json" >>"$T/agent-yd.log" 2>&1 || fail "rem"
  CCHC_CLOCK=$NOW agent xa-yen-dinh run --drain --timeout 30 >>"$T/agent-yd.log" 2>&1 || fail "rem run"
  seed_send xa-van-son t03-van-son; seed_send xa-huu-san t03-huu-san
  seed_at 2024-06-03 09:00; seed_send xa-dai-son t03-dai-son
  seed_at 2024-06-17 09:00; seed_send xa-van-son s1-van-son-1 rem-van-son; seed_send p-tnmt t07-tnmt
  seed_at 2024-06-18 09:00; seed_send xa-huu-san s1-huu-san
  seed_at 2024-06-19 09:00; seed_send xa-van-son s1-van-son-2; seed_send xa-dai-son s1-dai-son
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit"
  SERVER_PID=
  # 4 Q1 + 3 S1 + 2 remediation + 4 task reports accepted, Vân Sơn's S1
  # revision 1 superseded, the S2 report rejected.
  [ "$(sql "select string_agg(status || ' ' || n, ', ' order by status) from
            (select status, count(*) n from reports group by status) s")" \
    = "accepted 13, rejected 1, superseded 1" ] \
    || fail "reports: $(sql "select unit_code||' '||report_type||' '||period||subject||' '||status||' '||findings::text from reports")"
  # One tick makes the expectations and meets them from the reports already
  # there; then the exemptions.
  "$CCHC_BIN/cchc-server" -c "$T/server.ini" --tick-at 2024-06-20T08:00:00+07:00 >>"$T/tick.log" 2>&1 \
    || fail "tick"
  "$CCHC_BIN/cchc" exempt tt-an-chau CCHC_DK 2024Q1 --reason "Thị trấn sáp nhập bộ phận" >/dev/null
  "$CCHC_BIN/cchc" exempt p-tp CCHC_DK 2024S1 --reason "Phòng kiện toàn tổ chức" >/dev/null
}
