-- 037_store_usual_batch: cchc_store_batch as 035 but for the usual batch:
-- every key of it new to the store (no revision stored) and alone in it, no
-- row refused, no remediation report. Such a batch's keys are its rows, so
-- the per-key table cchc_sk3 says nothing the staged rows do not, and 035
-- filled it (one statement) and updated it with the expectations' state
-- (another) to write the reports, meet the expectations and write the
-- receipts from it. For the usual batch now:
--
-- - the staging statement's RETURNING tells how many rows, of which kinds,
--   meeting an expectation (what filling cchc_sk3 told 035);
-- - the reports are written from the staged rows alone (each the first of
--   its chain, superseding nothing);
-- - the expectations are locked from the staged rows, in the same order,
--   and the lock says whether one is overdue (a scheduler tick may have
--   made it so after the staging): then the batch goes on as 035's, with
--   cchc_sk3 filled, for its report.resolved receipts;
-- - otherwise the expectations are met and the receipts written by one
--   statement.
--
-- pg_stat_statements, cchc-bench's small ingest (8 agents x 10,000), µs a
-- report summed over the two lanes: cchc_sk3's insert 7.6 and update 7.6,
-- the expectations' update 26.8, the receipts 31.4 (035). Every other batch
-- (a revision, a refused row, a remediation report, an overdue expectation
-- met) is stored as 035 stores it. What a batch writes is 035's; in the
-- usual batch the expectations are updated after the agents' clock rows, not
-- before (both locked in the same order as before, the expectations first).

CREATE OR REPLACE FUNCTION cchc_store_batch(p jsonb, payloads bytea[])
RETURNS TABLE (ord integer, id bigint, duplicate boolean, status text, findings jsonb,
               same_payload boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    n integer;
    has_periodic boolean;
    has_remediation boolean;
    has_task boolean;
    has_earlier boolean; -- a key of the batch has a revision stored before it
    has_exp boolean; -- a key of the batch meets an expectation
    has_rev boolean; -- a report of the batch may not be newer than its key's last
    has_rejected boolean; -- a new row of the batch is refused
    has_resolved boolean := false; -- an overdue expectation is met
    -- The usual batch (037): every key of it new to the store and alone in
    -- it, no row refused, no remediation report. Its keys are its rows, so
    -- cchc_sk3 is not filled (unless an overdue expectation is met).
    fast boolean;
    -- The ids' sequence, looked up once a call: pg_get_serial_sequence in
    -- the staging statement ran for every row (a scan of pg_depend, 3 us a
    -- row: 20,000 calls took 67 ms, nextval alone 6 ms).
    v_seq regclass := pg_get_serial_sequence('reports', 'id')::regclass;
    v_bn bigint; -- this call's number in the session: its rows are those stamped with it
    v_lo integer; -- and the slots they are in: ord (or ks) from v_lo to v_hi
    v_hi integer;
BEGIN
    -- (New names: a session of a server not yet upgraded keeps 023's
    -- cchc_sb and cchc_sk, and 027-031's cchc_sb3 and cchc_sk2, of other
    -- shapes, for the rest of its life.)
    -- (Looked for first: CREATE ... IF NOT EXISTS sends a NOTICE, twice a
    -- batch, to the server's log.)
    -- Slots, never emptied (032): a batch's row for the report of place ord
    -- (its key) replaces, in place, what an earlier batch left there, and the
    -- batch's rows are those stamped with its number (bn); everything else in
    -- the tables is ignored. A row replaced in place leaves no index entry and,
    -- with room on its page (fillfactor 50), no new page: the old version is
    -- pruned when the page is next read. So the tables stay the size of the
    -- largest batch, and nothing is emptied between batches (DELETE left dead
    -- rows and index entries that only a TRUNCATE reclaimed, and each TRUNCATE
    -- made every plan of this function again: 031).
    IF to_regclass('pg_temp.cchc_sb4') IS NULL THEN
    CREATE TEMP TABLE cchc_sb4 (
        ord integer, bn bigint, ks integer, unit text, epoch bigint, msg_id bigint, type text,
        kind text, period text, revision integer, subject text, sent_at timestamptz,
        sealed_at timestamptz, n integer, status text, findings jsonb, cutoff_start date,
        cutoff_end date, due date, received_at timestamptz, sealed_trusted_at timestamptz,
        skew bigint, id bigint, dup_of integer, stored_dup boolean, same boolean, k text,
        sent_by text, stored_max integer, stored_first timestamptz, exp_id bigint,
        PRIMARY KEY (ord)) WITH (fillfactor = 50);
    END IF;
    -- Per report key with a revision accepted in this batch, in the slot
    -- ks: the ord of the key's first row in the batch, which each row of the
    -- key has as its ks.
    IF to_regclass('pg_temp.cchc_sk3') IS NULL THEN
    CREATE TEMP TABLE cchc_sk3 (
        ks integer, bn bigint, first_ord integer, k text, type text, unit text, period text,
        subject text, kind text, last_ord integer, last_id bigint, earlier boolean,
        chain_first timestamptz, v_at timestamptz, basis text, exp_id bigint, exp_was text,
        exp_status text, exp_due date, PRIMARY KEY (ks)) WITH (fillfactor = 50);
    END IF;
    -- The number: one more than the session's last; set as the session's
    -- (not LOCAL) and rolled back with the rows when the transaction is, so
    -- that no row of a committed call ever bears a number given again.
    v_bn := coalesce(nullif(current_setting('cchc.store_bn', true), ''), '0')::bigint + 1;
    PERFORM set_config('cchc.store_bn', v_bn::text, false);
    -- A TRUNCATE gives the tables new files, and so makes every plan of this
    -- function again at its next statement. Done at the session's 16th,
    -- 32nd, 64th, ... call: so that the plans made while the large tables
    -- were empty or small (a new district, a new cluster) are made again as
    -- they grow, as they were every twenty batches before, when each plan
    -- could have been made on an empty reports table; then more and more
    -- rarely (8,192 calls: 20 s at light load). And past 4 MB, to reclaim
    -- what the versions replaced in place did leave (an update with no room
    -- on its page, a long findings value TOASTed), which a normal life never
    -- reaches. And at the number 1: a new session's (its tables new, empty),
    -- or one whose number was RESET while its tables stayed (RESET ALL, as
    -- a connection pooler may send between clients), whose old rows could
    -- otherwise bear the numbers given again.
    -- (The size is looked at every 64th call, 035: 55 us a call, 3 % of a
    -- call at light load; 64 calls fill the slots no more than one does.)
    IF v_bn = 1 OR (v_bn >= 16 AND v_bn & (v_bn - 1) = 0)
       OR (v_bn & 63 = 0
           AND pg_total_relation_size('pg_temp.cchc_sb4')
               + pg_total_relation_size('pg_temp.cchc_sk3') > 4 * 1024 * 1024) THEN
        TRUNCATE cchc_sb4, cchc_sk3;
    END IF;

    -- E007 under a lock on each report key (type, unit, period, subject),
    -- taken in one order by every server so that two batches cannot deadlock
    -- on them, before anything is read: under it, a message another server
    -- stored meanwhile is seen as stored (its key is its report's), and the
    -- revisions stored for the key are final.
    PERFORM pg_advisory_xact_lock(1667458162, l.h)  -- 'cchr', as cchc_store_report
    FROM (SELECT DISTINCT hashtext(x.type || '|' || x.unit || '|' || x.period || '|' || x.subject)
                     AS h
          FROM jsonb_to_recordset(p) AS x(type text, unit text, period text, subject text,
                                          status text)
          WHERE x.status = 'accepted'
          ORDER BY 1) l;
    -- The batch, with what the tables hold for each of its reports, each
    -- found by one index probe (LATERAL: never a join over all of reports):
    -- - the same message twice in the batch: the later copy is answered as
    --   the first (dup_of);
    -- - stored before: answered from the stored row (the unique key);
    -- - the highest stored revision of its key and the first receipt of its
    --   chain: the highest stored revision is the accepted one (a revision
    --   is superseded only by a higher one, accepted), so the partial index
    --   reports_key (accepted rows) answers;
    -- - the expectation it meets, if any.
    -- Ids are taken for the new rows only, in the batch's order.
    WITH w AS (
    INSERT INTO cchc_sb4 (ord, bn, ks, unit, epoch, msg_id, type, kind, period, revision,
                          subject, sent_at, sealed_at, n, status, findings, cutoff_start,
                          cutoff_end, due, received_at, sealed_trusted_at, skew, k, sent_by,
                          dup_of, stored_dup, same, id, stored_max, stored_first, exp_id)
    SELECT y.ord, v_bn, y.ks, y.unit, y.epoch, y.msg_id, y.type, y.kind, y.period, y.revision,
           y.subject,
           y.sent_at, y.sealed_at, y.n,
           CASE WHEN r.id IS NOT NULL THEN r.status ELSE y.status END,
           CASE WHEN r.id IS NOT NULL THEN r.findings ELSE y.findings END,
           y.cutoff_start, y.cutoff_end, y.due, y.received_at, y.sealed_trusted_at, y.skew, y.k,
           y.sent_by, y.dup_of, r.id IS NOT NULL,
           CASE WHEN y.dup_of IS NOT NULL THEN payloads[y.n] = payloads[y.first_n]
                ELSE coalesce(r.payload = payloads[y.n], true) END,
           CASE WHEN r.id IS NOT NULL THEN r.id
                WHEN y.dup_of IS NULL THEN nextval(v_seq) END,
           st.m, st.first, ex.id
    FROM (SELECT x.ord, x.unit, x.epoch, x.msg_id, x.type, x.kind, x.period, x.revision,
                 x.subject, to_timestamp(x.sent_at / 1000.0) AS sent_at,
                 CASE WHEN x.sealed_at > 0 THEN to_timestamp(x.sealed_at / 1000.0) END
                     AS sealed_at,
                 x.n::integer AS n, x.status,
                 coalesce(x.findings, '[]'::jsonb) AS findings, x.cutoff_start, x.cutoff_end,
                 x.due, to_timestamp(x.received_at / 1000.0) AS received_at,
                 to_timestamp(x.sealed_trusted_at / 1000.0) AS sealed_trusted_at, x.skew,
                 x.type || '|' || x.unit || '|' || x.period || '|' || x.subject AS k,
                 nullif(x.sent_by, x.unit) AS sent_by,
                 nullif(min(x.ord) OVER (PARTITION BY x.unit, x.epoch, x.msg_id), x.ord)
                     AS dup_of,
                 first_value(x.n::integer) OVER (PARTITION BY x.unit, x.epoch, x.msg_id ORDER BY x.ord)
                     AS first_n,
                 min(x.ord) OVER (PARTITION BY x.type || '|' || x.unit || '|' || x.period || '|'
                                               || x.subject) AS ks
          -- (Neither the payload nor the body is read here: n, the report's
          -- place in p and in payloads, finds them when they are written.)
          FROM ROWS FROM (jsonb_to_recordset(p)
                              AS (ord integer, unit text, epoch bigint, msg_id bigint, type text,
                                  kind text, period text, revision integer, subject text,
                                  sent_at bigint, sealed_at bigint, status text, findings jsonb,
                                  cutoff_start date, cutoff_end date, due date,
                                  received_at bigint, sealed_trusted_at bigint, skew bigint,
                                  sent_by text))
                   WITH ORDINALITY AS x(ord, unit, epoch, msg_id, type, kind, period, revision,
                                        subject, sent_at, sealed_at, status, findings,
                                        cutoff_start, cutoff_end, due, received_at,
                                        sealed_trusted_at, skew, sent_by, n)) y
    LEFT JOIN LATERAL (SELECT r3.id, r3.status, r3.findings, r3.payload FROM reports r3
                       WHERE y.dup_of IS NULL AND r3.unit_code = y.unit
                         AND r3.agent_epoch = y.epoch AND r3.msg_id = y.msg_id
                       OFFSET 0) r ON true
    LEFT JOIN LATERAL (SELECT max(r4.revision) AS m,
                              min(coalesce(r4.first_received_at, r4.received_at)) AS first
                       FROM reports r4
                       WHERE y.dup_of IS NULL AND r.id IS NULL AND y.status = 'accepted'
                         AND r4.report_type = y.type AND r4.unit_code = y.unit
                         AND r4.period = y.period AND r4.subject = y.subject
                         AND r4.status = 'accepted') st ON true
    LEFT JOIN LATERAL (SELECT e.id FROM expectations e
                       WHERE y.dup_of IS NULL AND r.id IS NULL AND y.status = 'accepted'
                         AND e.type_code = y.type AND e.unit_code = y.unit
                         AND e.period = y.period AND e.subject = y.subject
                       OFFSET 0) ex ON true
    ORDER BY y.ord
    ON CONFLICT (ord) DO UPDATE
        SET (bn, ks, unit, epoch, msg_id, type, kind, period, revision, subject, sent_at,
             sealed_at, n, status, findings, cutoff_start, cutoff_end, due, received_at,
             sealed_trusted_at, skew, k, sent_by, dup_of, stored_dup, same, id, stored_max,
             stored_first, exp_id)
          = ROW(EXCLUDED.bn, EXCLUDED.ks, EXCLUDED.unit, EXCLUDED.epoch, EXCLUDED.msg_id,
                EXCLUDED.type, EXCLUDED.kind, EXCLUDED.period, EXCLUDED.revision,
                EXCLUDED.subject, EXCLUDED.sent_at, EXCLUDED.sealed_at, EXCLUDED.n,
                EXCLUDED.status, EXCLUDED.findings, EXCLUDED.cutoff_start, EXCLUDED.cutoff_end,
                EXCLUDED.due, EXCLUDED.received_at, EXCLUDED.sealed_trusted_at, EXCLUDED.skew,
                EXCLUDED.k, EXCLUDED.sent_by, EXCLUDED.dup_of, EXCLUDED.stored_dup,
                EXCLUDED.same, EXCLUDED.id, EXCLUDED.stored_max, EXCLUDED.stored_first,
                EXCLUDED.exp_id)
    RETURNING ord, stored_max, ks, status, dup_of, stored_dup, kind, exp_id)
    -- (What the next statements need to know, so that those with nothing to
    -- do are not run, 035: a revision to check against its key's, a row
    -- refused; and, for the usual batch, what the per-key table told 035:
    -- how many rows to write, of which kinds, meeting an expectation, 037.)
    SELECT min(w2.ord), max(w2.ord),
           coalesce(bool_or(w2.acc AND (w2.stored_max IS NOT NULL OR w2.ks <> w2.ord)), false),
           coalesce(bool_or(w2.dup_of IS NULL AND NOT w2.stored_dup AND w2.status = 'rejected'),
                    false),
           count(*) FILTER (WHERE w2.acc),
           coalesce(bool_or(w2.acc AND w2.kind = 'periodic'), false),
           coalesce(bool_or(w2.acc AND w2.kind = 'remediation'), false),
           coalesce(bool_or(w2.acc AND w2.kind = 'task_progress'), false),
           coalesce(bool_or(w2.acc AND w2.exp_id IS NOT NULL), false)
    INTO v_lo, v_hi, has_rev, has_rejected, n, has_periodic, has_remediation, has_task, has_exp
    FROM (SELECT w.*, w.dup_of IS NULL AND NOT w.stored_dup AND w.status = 'accepted' AS acc
          FROM w) w2;

    -- A revision must be newer than every stored one and every earlier one
    -- of the batch (a refused one never is the highest). Only when a key of
    -- the batch has one stored, or a second report in the batch.
    IF has_rev THEN
    UPDATE cchc_sb4 b
    SET status = 'rejected',
        findings = b.findings || jsonb_build_array(jsonb_build_object(
            'code', 'E007', 'path', '$.revision',
            'message_vi', format('Đã có bản báo cáo số %s: bản sửa đổi phải ghi revision '
                                 'lớn hơn (ví dụ %s).', t.m, t.m + 1),
            'message_en', format('Revision %s is already stored: a new version needs a '
                                 'higher revision (e.g. %s).', t.m, t.m + 1)))
    FROM (SELECT c.ord, greatest(c.stored_max, c.prior) AS m
          FROM (SELECT b2.ord, b2.revision, b2.stored_max,
                       max(b2.revision) OVER (PARTITION BY b2.k ORDER BY b2.ord
                                              ROWS BETWEEN UNBOUNDED PRECEDING
                                                       AND 1 PRECEDING) AS prior
                FROM cchc_sb4 b2
                WHERE b2.ord BETWEEN v_lo AND v_hi AND b2.bn = v_bn
                  AND b2.dup_of IS NULL AND NOT b2.stored_dup
                  AND b2.status = 'accepted') c
          WHERE c.revision <= greatest(c.stored_max, c.prior)) t
    WHERE b.ord = t.ord AND b.bn = v_bn;
    GET DIAGNOSTICS n = ROW_COUNT;
    has_rejected := has_rejected OR n > 0;
    END IF;
    fast := NOT has_rev AND NOT has_rejected AND NOT has_remediation;
    IF NOT fast THEN
    -- The accepted revisions per key (a key left with none has no row). The
    -- timeliness of a chain stays that of its first accepted revision. With
    -- them, what the later statements have to do (035: they were two
    -- statements more).
    WITH k AS (
    INSERT INTO cchc_sk3 (ks, bn, first_ord, k, type, unit, period, subject, kind, last_ord,
                          last_id, earlier, chain_first, exp_id, v_at, basis, exp_was,
                          exp_status, exp_due)
    SELECT a.ks, v_bn, a.first_ord, a.k, f.type, f.unit, f.period, f.subject, f.kind,
           a.last_ord, l.id, f.stored_first IS NOT NULL, coalesce(f.stored_first, f.received_at),
           f.exp_id, NULL, NULL, NULL, NULL, NULL
    FROM (SELECT b.ks, b.k, min(b.ord) AS first_ord, max(b.ord) AS last_ord FROM cchc_sb4 b
          WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
            AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          GROUP BY b.ks, b.k) a
    JOIN cchc_sb4 f ON f.ord = a.first_ord
    JOIN cchc_sb4 l ON l.ord = a.last_ord
    ON CONFLICT (ks) DO UPDATE
        SET (bn, first_ord, k, type, unit, period, subject, kind, last_ord, last_id, earlier,
             chain_first, exp_id, v_at, basis, exp_was, exp_status, exp_due)
          = ROW(EXCLUDED.bn, EXCLUDED.first_ord, EXCLUDED.k, EXCLUDED.type, EXCLUDED.unit,
                EXCLUDED.period, EXCLUDED.subject, EXCLUDED.kind, EXCLUDED.last_ord,
                EXCLUDED.last_id, EXCLUDED.earlier, EXCLUDED.chain_first, EXCLUDED.exp_id,
                NULL, NULL, NULL, NULL, NULL)
    RETURNING kind, earlier, exp_id)
    SELECT count(*), coalesce(bool_or(k.earlier), false),
           coalesce(bool_or(k.kind = 'periodic'), false),
           coalesce(bool_or(k.kind = 'remediation'), false),
           coalesce(bool_or(k.kind = 'task_progress'), false),
           coalesce(bool_or(k.exp_id IS NOT NULL), false)
    INTO n, has_earlier, has_periodic, has_remediation, has_task, has_exp
    FROM k;

    -- The rows, numbered as the batch was loaded (in its order), so that a
    -- revision superseded within the batch is written superseded, by the
    -- next one (the foreign key is checked at the statement's end), and never
    -- updated after. A message another server is storing meanwhile (only a
    -- refused one can be: the others were looked for under their key's lock)
    -- fails the insert on the unique key; the server sends the batch again
    -- and it is then answered from that row.
    INSERT INTO reports (id, unit_code, agent_epoch, msg_id, report_type, content_kind, period,
                         revision, subject, sent_at, sealed_at, payload, body, status, findings,
                         received_at, first_received_at, superseded_by, sent_by)
    -- (The next accepted revision of the key: lead() over the key's accepted
    -- rows, in one pass.)
    SELECT b.id, b.unit, b.epoch, b.msg_id, b.type, b.kind, b.period, b.revision, b.subject,
           b.sent_at, b.sealed_at, payloads[b.n], jsonb_extract_path(p, (b.n - 1)::text, 'body'),
           CASE WHEN b.next_id IS NOT NULL THEN 'superseded' ELSE b.status END,
           b.findings, b.received_at, s.chain_first, b.next_id, b.sent_by
    FROM (SELECT b2.*,
                 CASE WHEN b2.status = 'accepted'
                      THEN lead(b2.id) OVER (PARTITION BY b2.k, b2.status = 'accepted'
                                             ORDER BY b2.ord) END AS next_id
          FROM cchc_sb4 b2
          WHERE b2.ord BETWEEN v_lo AND v_hi AND b2.bn = v_bn
            AND b2.dup_of IS NULL AND NOT b2.stored_dup) b
    LEFT JOIN cchc_sk3 s ON s.ks = b.ks AND s.bn = v_bn AND b.status = 'accepted'
    ORDER BY b.ord;
    ELSE
    -- The usual batch: each row accepted, the first of its key's chain (its
    -- first receipt its own), superseding nothing and superseded by none.
    has_earlier := false;
    INSERT INTO reports (id, unit_code, agent_epoch, msg_id, report_type, content_kind, period,
                         revision, subject, sent_at, sealed_at, payload, body, status, findings,
                         received_at, first_received_at, superseded_by, sent_by)
    SELECT b.id, b.unit, b.epoch, b.msg_id, b.type, b.kind, b.period, b.revision, b.subject,
           b.sent_at, b.sealed_at, payloads[b.n], jsonb_extract_path(p, (b.n - 1)::text, 'body'),
           b.status, b.findings, b.received_at, b.received_at, NULL, b.sent_by
    FROM cchc_sb4 b
    WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
      AND b.dup_of IS NULL AND NOT b.stored_dup
    ORDER BY b.ord;
    END IF;

    IF n > 0 THEN
        -- The stored accepted revision is superseded by the batch's first:
        -- found by one probe of reports_key per key with an earlier revision
        -- (LATERAL), updated through the primary key. A join of the keys
        -- with reports let the planner scan every accepted report and sort
        -- them (136 ms a batch at 37,000 reports, growing with the table).
        IF has_earlier THEN
            WITH o AS MATERIALIZED (
                SELECT x.id, f.id AS by_id
                FROM cchc_sk3 s
                JOIN cchc_sb4 f ON f.ord = s.first_ord
                CROSS JOIN LATERAL (SELECT r2.id FROM reports r2
                                    WHERE r2.report_type = s.type AND r2.unit_code = s.unit
                                      AND r2.period = s.period AND r2.subject = s.subject
                                      AND r2.status = 'accepted' AND r2.id <> s.last_id
                                    OFFSET 0) x
                WHERE s.ks BETWEEN v_lo AND v_hi AND s.bn = v_bn AND s.earlier)
            UPDATE reports r SET status = 'superseded', superseded_by = o.by_id
            FROM o
            WHERE r.id = ANY (ARRAY(SELECT o2.id FROM o o2)) AND r.id = o.id;
        END IF;

        -- ---- the parts of every accepted revision -------------------------------------
        -- (Only the statements of the kinds the batch has: each of the others
        -- costs a plan's start and a scan of the batch for nothing.)
        IF has_periodic THEN
        INSERT INTO dossier_rows (report_id, field, carried_over, new_online, new_direct_postal,
                                  resolved_early, resolved_on_time, resolved_late,
                                  pending_in_time, pending_overdue, comment)
        SELECT b.id, d.field, d.carried_over, d.new_online, d.new_direct_postal,
               d.resolved_early, d.resolved_on_time, d.resolved_late, d.pending_in_time,
               d.pending_overdue, coalesce(d.comment, '')
        FROM cchc_sb4 b,
             jsonb_to_recordset(coalesce(jsonb_extract_path(p, (b.n - 1)::text, 'body', 'dossiers'),
                                         '[]'::jsonb))
                 AS d(field text, carried_over bigint, new_online bigint,
                      new_direct_postal bigint, resolved_early bigint, resolved_on_time bigint,
                      resolved_late bigint, pending_in_time bigint, pending_overdue bigint,
                      comment text)
        WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
          AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          AND b.kind = 'periodic';
        INSERT INTO overdue_dossiers (report_id, seq, code, field, procedure, received, due,
                                      resolved, cause, remedy, apology_number, apology_date,
                                      apology_new_due)
        SELECT b.id, o.seq, coalesce(o.code, ''), coalesce(o.field, ''),
               coalesce(o.procedure, ''), cchc_try_date(o.received), cchc_try_date(o.due),
               cchc_try_date(o.resolved), coalesce(o.cause, ''), coalesce(o.remedy, ''),
               nullif(o.apology->>'number', ''), cchc_try_date(o.apology->>'date'),
               cchc_try_date(o.apology->>'new_due')
        FROM cchc_sb4 b,
             ROWS FROM (jsonb_to_recordset(coalesce(jsonb_extract_path(p, (b.n - 1)::text, 'body',
                                                                    'overdue_dossiers'),
                                                 '[]'::jsonb))
                            AS (code text, field text, procedure text, received text, due text,
                                resolved text, cause text, remedy text, apology jsonb))
                 WITH ORDINALITY AS o(code, field, procedure, received, due, resolved, cause,
                                      remedy, apology, seq)
        WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
          AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          AND b.kind = 'periodic';
        -- The window and due date the server computed; a corrected one replaces them.
        -- A row already so is not upserted: ON CONFLICT DO UPDATE locks the
        -- row even when its WHERE says no, and would wait for a scheduler
        -- tick that holds it.
        INSERT INTO periods AS p (type_code, period, cutoff_start, cutoff_end, due)
        SELECT w.type, w.period, w.cutoff_start, w.cutoff_end, w.due
        FROM (SELECT DISTINCT ON (b.type, b.period) b.type, b.period, b.cutoff_start,
                     b.cutoff_end, b.due
              FROM cchc_sb4 b
              WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
                AND b.dup_of IS NULL AND NOT b.stored_dup
                AND b.status = 'accepted' AND b.kind = 'periodic' AND b.period <> ''
                AND b.cutoff_start IS NOT NULL AND b.cutoff_end IS NOT NULL
                AND EXISTS (SELECT 1 FROM report_types x WHERE x.code = b.type)
              ORDER BY b.type, b.period, b.ord DESC) w
        WHERE NOT EXISTS (SELECT 1 FROM periods q
                          WHERE q.type_code = w.type AND q.period = w.period
                            AND (q.cutoff_start, q.cutoff_end, q.due)
                                IS NOT DISTINCT FROM (w.cutoff_start, w.cutoff_end,
                                                      coalesce(w.due, q.due)))
        ORDER BY w.type, w.period
        ON CONFLICT (type_code, period) DO UPDATE
            SET cutoff_start = EXCLUDED.cutoff_start, cutoff_end = EXCLUDED.cutoff_end,
                due = coalesce(EXCLUDED.due, p.due)
            WHERE (p.cutoff_start, p.cutoff_end, p.due)
                  IS DISTINCT FROM (EXCLUDED.cutoff_start, EXCLUDED.cutoff_end,
                                    coalesce(EXCLUDED.due, p.due));
        END IF;
        IF has_remediation THEN
        INSERT INTO remediation_items (report_id, finding_no, status, actions, evidence, cause,
                                       plan, expected_by)
        SELECT b.id, (x->>'finding')::integer, x->>'status', coalesce(x->>'actions', ''),
               ARRAY(SELECT jsonb_array_elements_text(coalesce(x->'evidence', '[]'::jsonb))),
               coalesce(x->>'cause', ''), coalesce(x->>'plan', ''),
               cchc_try_date(x->>'expected_by')
        FROM cchc_sb4 b,
             jsonb_array_elements(coalesce(jsonb_extract_path(p, (b.n - 1)::text, 'body', 'items'),
                                           '[]'::jsonb)) x
        WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
          AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          AND b.kind = 'remediation';
        -- A finding's status follows the latest accepted remediation report.
        UPDATE inspection_findings f SET status = ri.status
        FROM cchc_sk3 s
        JOIN inspections i ON i.code = s.subject AND i.unit_code = s.unit
        JOIN remediation_items ri ON ri.report_id = s.last_id
        WHERE s.ks BETWEEN v_lo AND v_hi AND s.bn = v_bn
          AND s.kind = 'remediation' AND f.inspection_id = i.id
          AND f.no = ri.finding_no
          AND f.status IS DISTINCT FROM ri.status;
        UPDATE inspections i SET status = 'remediation_received'
        FROM cchc_sk3 s
        WHERE s.ks BETWEEN v_lo AND v_hi AND s.bn = v_bn
          AND s.kind = 'remediation' AND i.code = s.subject
          AND i.unit_code = s.unit
          AND i.status NOT IN ('remediation_received', 'closed');
        END IF;
        IF has_task THEN
        INSERT INTO task_progress (report_id, task_code, status, percent, result, evidence)
        SELECT b.id, coalesce(y.body->>'task', b.subject), y.body->>'status',
               (y.body->>'percent')::integer, coalesce(y.body->>'result', ''),
               ARRAY(SELECT jsonb_array_elements_text(coalesce(y.body->'evidence',
                                                               '[]'::jsonb)))
        FROM cchc_sb4 b
        CROSS JOIN LATERAL (SELECT jsonb_extract_path(p, (b.n - 1)::text, 'body') AS body) y
        WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
          AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          AND b.kind = 'task_progress';
        END IF;

        -- ---- the expectations they meet (cchc_store_report's rule) ----------------------
        -- Locked in one order. The date judged on is the chain's first receipt,
        -- or the sealing of its first revision when the type allows it, that
        -- revision is in this batch (no earlier one), the server trusted the
        -- agent's clock, and the sealing is not after the receipt.
        -- Each step one index probe per key, whatever the planner thinks of
        -- the temporary tables (they have no statistics). Only when a key
        -- meets one; with whether an overdue one is met (its receipts).
        IF has_exp THEN
        IF fast THEN
        -- (The usual batch: locked from its rows; whether one of them is
        -- overdue, as the lock sees it (a tick may have made it so since the
        -- batch was staged), decides whether its receipts need cchc_sk3.)
        SELECT coalesce(bool_or(l.status = 'overdue'), false) INTO has_resolved
        FROM (SELECT x.status FROM expectations x
              WHERE x.id = ANY (ARRAY(SELECT b.exp_id FROM cchc_sb4 b
                                      WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
                                        AND b.dup_of IS NULL AND NOT b.stored_dup
                                        AND b.status = 'accepted' AND b.exp_id IS NOT NULL))
              ORDER BY x.id FOR UPDATE) l;
        IF has_resolved THEN
        fast := false;
        WITH k AS (
        INSERT INTO cchc_sk3 (ks, bn, first_ord, k, type, unit, period, subject, kind, last_ord,
                              last_id, earlier, chain_first, exp_id, v_at, basis, exp_was,
                              exp_status, exp_due)
        SELECT a.ks, v_bn, a.first_ord, a.k, f.type, f.unit, f.period, f.subject, f.kind,
               a.last_ord, l.id, f.stored_first IS NOT NULL, coalesce(f.stored_first, f.received_at),
               f.exp_id, NULL, NULL, NULL, NULL, NULL
        FROM (SELECT b.ks, b.k, min(b.ord) AS first_ord, max(b.ord) AS last_ord FROM cchc_sb4 b
              WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
                AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
              GROUP BY b.ks, b.k) a
        JOIN cchc_sb4 f ON f.ord = a.first_ord
        JOIN cchc_sb4 l ON l.ord = a.last_ord
        ON CONFLICT (ks) DO UPDATE
            SET (bn, first_ord, k, type, unit, period, subject, kind, last_ord, last_id, earlier,
                 chain_first, exp_id, v_at, basis, exp_was, exp_status, exp_due)
              = ROW(EXCLUDED.bn, EXCLUDED.first_ord, EXCLUDED.k, EXCLUDED.type, EXCLUDED.unit,
                    EXCLUDED.period, EXCLUDED.subject, EXCLUDED.kind, EXCLUDED.last_ord,
                    EXCLUDED.last_id, EXCLUDED.earlier, EXCLUDED.chain_first, EXCLUDED.exp_id,
                    NULL, NULL, NULL, NULL, NULL)
        RETURNING kind, earlier, exp_id)
        SELECT count(*), coalesce(bool_or(k.earlier), false),
               coalesce(bool_or(k.kind = 'periodic'), false),
               coalesce(bool_or(k.kind = 'remediation'), false),
               coalesce(bool_or(k.kind = 'task_progress'), false),
               coalesce(bool_or(k.exp_id IS NOT NULL), false)
        INTO n, has_earlier, has_periodic, has_remediation, has_task, has_exp
        FROM k;
        END IF;
        ELSE
        PERFORM 1 FROM expectations x
        WHERE x.id = ANY (ARRAY(SELECT s.exp_id FROM cchc_sk3 s
                                WHERE s.ks BETWEEN v_lo AND v_hi AND s.bn = v_bn
                                  AND s.exp_id IS NOT NULL))
        ORDER BY x.id FOR UPDATE;
        END IF;
        END IF;
        -- (The usual batch meets its expectations in its receipts' statement.)
        IF has_exp AND NOT fast THEN
        WITH u AS (
        UPDATE cchc_sk3 s
        SET (exp_was, exp_due, basis, v_at, exp_status) = (
                SELECT x.status, x.due,
                       CASE WHEN o.sealed THEN 'sealed' ELSE 'received' END, o.v_at,
                       CASE WHEN x.status NOT IN ('expected', 'overdue') THEN x.status
                            WHEN cchc_vn_date(o.v_at) <= x.due + x.grace_days
                            THEN 'on_time' ELSE 'late' END
                FROM expectations x
                CROSS JOIN cchc_sb4 f
                JOIN report_types t ON t.code = f.type
                CROSS JOIN LATERAL (SELECT NOT s.earlier AND f.sealed_trusted_at IS NOT NULL
                                           AND f.sealed_trusted_at <= s.chain_first
                                           AND t.timeliness_basis = 'sealed' AS sealed) o0
                CROSS JOIN LATERAL (SELECT o0.sealed,
                                           CASE WHEN o0.sealed THEN f.sealed_trusted_at
                                                ELSE s.chain_first END AS v_at) o
                WHERE x.id = s.exp_id AND f.ord = s.first_ord)
        WHERE s.ks BETWEEN v_lo AND v_hi AND s.bn = v_bn AND s.exp_id IS NOT NULL
        RETURNING s.exp_was)
        SELECT coalesce(bool_or(u.exp_was = 'overdue'), false) INTO has_resolved FROM u;
        -- Met now (expected, overdue): its state, report, date and basis; met
        -- before (on_time, late): its report only.
        -- (Each row by one probe of the primary key from the batch's keys, a
        -- nested loop: the "= ANY" beside the join that 017-032 had made
        -- the index scan go through the whole array for every key, 1 ms a
        -- batch of 200; 033.)
        UPDATE expectations e
        SET status = s.exp_status, report_id = s.last_id,
            met_at = CASE WHEN s.exp_was IN ('expected', 'overdue') THEN s.v_at
                          ELSE e.met_at END,
            basis = CASE WHEN s.exp_was IN ('expected', 'overdue') THEN s.basis
                         ELSE e.basis END,
            updated_at = now()
        FROM cchc_sk3 s
        WHERE e.id = s.exp_id AND s.ks BETWEEN v_lo AND v_hi AND s.bn = v_bn
          AND s.exp_was IN ('expected', 'overdue', 'on_time', 'late');
        END IF;
    END IF;

    -- The agent's clock as its last message of the batch showed it; late in
    -- the transaction, so that the row is held only to the commit (the
    -- server's other connection writes the contact's acks). Only the rows
    -- free now (033): a row the notification acks hold (srv_notify.c, to
    -- their commit) keeps its skew until the unit's next batch or Hello; a
    -- store waited for that commit (4-5 ms at light load, the ack latency's
    -- p99), and the skew is a reading the next message gives again.
    -- Locked in the order of their codes, as the acks lock them (in the
    -- join's order a store and an ack deadlocked, 023), by one scan of the
    -- key with the batch's units (= ANY; a join with them was planned as a
    -- merge join over all of unit_contacts, 030); then each row updated by
    -- one probe of the key from the batch's units, the locked ones (032's
    -- "= ANY" beside that probe went through the whole array for each
    -- unit: 5.0-6.2 ms for 200 units, 3.1-4.6 ms without; 033).
    UPDATE unit_contacts c SET clock_skew_ms = s.skew, clock_checked_at = s.received_at
    FROM (SELECT DISTINCT ON (b.unit) b.unit, b.skew, b.received_at FROM cchc_sb4 b
          WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
            AND b.skew IS NOT NULL ORDER BY b.unit, b.ord DESC) s
    WHERE c.unit_code = s.unit
      AND s.unit = ANY (ARRAY(SELECT x.unit_code FROM unit_contacts x
                              WHERE x.unit_code = ANY (ARRAY(
                                        SELECT DISTINCT b.unit FROM cchc_sb4 b
                                        WHERE b.ord BETWEEN v_lo AND v_hi
                                          AND b.bn = v_bn AND b.skew IS NOT NULL))
                              ORDER BY x.unit_code FOR UPDATE SKIP LOCKED))
      AND (c.clock_checked_at IS NULL OR c.clock_checked_at <= s.received_at);

    -- ---- the receipts, in the batch's order -----------------------------------------------
    -- report.accepted and report.rejected per new row; report.resolved to the
    -- unit and Home Affairs when an overdue obligation is met (texts as 007).
    -- Numbered at once, in that order, as they are inserted (the counter is
    -- held to the commit; not touched when there are none).
    -- (A batch with no refused row and no overdue expectation met, the
    -- usual one, has only the accepted receipts: their statement alone,
    -- without the plans of the other two kinds', 035.)
    IF has_rejected OR has_resolved THEN
    WITH z AS MATERIALIZED (
    SELECT z0.kind, z0.unit_code, z0.about, z0.dedup_key, z0.text_vi, z0.text_en, z0.facts,
           z0.created_at, row_number() OVER (ORDER BY z0.ord, z0.sub) AS o
    FROM (
        SELECT b.ord, 0 AS sub, 'report.rejected' AS kind, coalesce(b.sent_by, b.unit) AS unit_code,
               b.unit AS about, 'report.rejected:' || b.id AS dedup_key,
               format('Báo cáo %s %s (lần %s) bị từ chối: %s.', b.type, w.what, b.revision,
                      coalesce(c.codes, ''))
               || CASE WHEN b.sent_by IS NOT NULL
                       THEN format(' Báo cáo của %s, do %s nộp thay.', b.unit, b.sent_by)
                       ELSE '' END AS text_vi,
               format('Report %s %s (revision %s) was rejected: %s.', b.type, w.what,
                      b.revision, coalesce(c.codes, ''))
               || CASE WHEN b.sent_by IS NOT NULL
                       THEN format(' Report of %s, sent by %s in its place.', b.unit, b.sent_by)
                       ELSE '' END AS text_en,
               jsonb_build_object('type', b.type, 'period', b.period, 'subject', b.subject,
                                  'unit', b.unit, 'report_id', b.id, 'status', 'rejected',
                                  'errors', coalesce(c.errors, '[]'::jsonb))
               || CASE WHEN b.sent_by IS NOT NULL THEN jsonb_build_object('sent_by', b.sent_by)
                       ELSE '{}'::jsonb END AS facts,
               b.received_at AS created_at
        FROM cchc_sb4 b
        CROSS JOIN LATERAL (SELECT cchc_sched_what(b.period, b.subject) AS what) w
        CROSS JOIN LATERAL (SELECT string_agg(DISTINCT f->>'code', ', ') AS codes,
                                   jsonb_agg(f) AS errors
                            FROM jsonb_array_elements(b.findings) f
                            WHERE f->>'code' LIKE 'E%') c
        WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
          AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'rejected'
        UNION ALL
        SELECT b.ord, 0, 'report.accepted', coalesce(b.sent_by, b.unit), b.unit,
               'report.accepted:' || b.id,
               format('Đã nhận báo cáo %s %s (lần %s) của %s%s%s.', b.type, w.what, b.revision,
                      coalesce(u.name, b.unit),
                      CASE WHEN b.sent_by IS NOT NULL
                           THEN ' (đơn vị đã sáp nhập), do ' || coalesce(su.name, b.sent_by)
                                || ' nộp thay'
                           ELSE '' END,
                      CASE s.exp_status WHEN 'on_time' THEN ': đúng hạn'
                                        WHEN 'late' THEN ': chậm hạn (hạn ' || cchc_ymd(s.exp_due)
                                                         || ')'
                                        ELSE '' END),
               format('Report %s %s (revision %s) of %s%s accepted%s.', b.type, w.what,
                      b.revision, b.unit,
                      CASE WHEN b.sent_by IS NOT NULL THEN ', sent by ' || b.sent_by ELSE '' END,
                      CASE s.exp_status WHEN 'on_time' THEN ', on time'
                                        WHEN 'late' THEN ', late (due ' || cchc_ymd(s.exp_due)
                                                         || ')'
                                        ELSE '' END),
               jsonb_strip_nulls(jsonb_build_object(
                   'type', b.type, 'period', b.period, 'subject', b.subject, 'unit', b.unit,
                   'report_id', b.id, 'revision', b.revision, 'due', cchc_ymd(s.exp_due),
                   'status', s.exp_status,
                   'on_time', CASE s.exp_status WHEN 'on_time' THEN true
                                                WHEN 'late' THEN false END,
                   'sent_by', b.sent_by)),
               b.received_at
        FROM cchc_sb4 b
        JOIN cchc_sk3 s ON s.ks = b.ks AND s.bn = v_bn
        LEFT JOIN units u ON u.code = b.unit
        LEFT JOIN units su ON su.code = b.sent_by
        CROSS JOIN LATERAL (SELECT cchc_sched_what(b.period, b.subject) AS what) w
        WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
          AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
        UNION ALL
        SELECT f.ord, g.o, 'report.resolved', g.target, s.unit,
               'report.resolved:' || s.exp_id || ':' || g.target,
               format('%s đã nộp báo cáo %s %s (hạn %s, %s).',
                      coalesce(u.name, s.unit) || coalesce(' (do ' || su.name || ' nộp thay)', ''),
                      s.type, cchc_sched_what(s.period, s.subject), cchc_ymd(s.exp_due),
                      CASE s.exp_status WHEN 'on_time' THEN 'đúng hạn theo thời điểm niêm phong'
                                        ELSE 'chậm hạn' END),
               format('%s has submitted %s %s (due %s, %s).',
                      s.unit || coalesce(' (sent by ' || f.sent_by || ')', ''), s.type,
                      cchc_sched_what(s.period, s.subject), cchc_ymd(s.exp_due),
                      CASE s.exp_status WHEN 'on_time' THEN 'on time by its sealed time'
                                        ELSE 'late' END),
               jsonb_strip_nulls(jsonb_build_object(
                   'type', s.type, 'period', s.period, 'subject', s.subject, 'unit', s.unit,
                   'due', cchc_ymd(s.exp_due), 'status', s.exp_status, 'report_id', s.last_id,
                   'expectation', s.exp_id, 'sent_by', f.sent_by)),
               f.received_at
        FROM cchc_sk3 s
        JOIN cchc_sb4 f ON f.ord = s.last_ord
        LEFT JOIN units u ON u.code = s.unit
        LEFT JOIN units su ON su.code = f.sent_by
        CROSS JOIN LATERAL (VALUES (1, coalesce(f.sent_by, s.unit)), (2, '@home_affairs'))
            g(o, target)
        WHERE s.ks BETWEEN v_lo AND v_hi AND s.bn = v_bn AND s.exp_was = 'overdue'
          -- (a probe of the unique index per row, never an anti-join)
          AND (SELECT count(*) FROM notifications x
               WHERE x.dedup_key = 'report.resolved:' || s.exp_id || ':' || g.target) = 0
    ) z0),
    c AS (UPDATE notification_counter SET last_seq = last_seq + (SELECT count(*) FROM z)
          WHERE id = 1 AND EXISTS (SELECT 1 FROM z)
          RETURNING last_seq - (SELECT count(*) FROM z) AS base)
    INSERT INTO notifications (seq, kind, unit_code, about, dedup_key, text_vi, text_en, facts,
                               created_at)
    SELECT c.base + z.o, z.kind, z.unit_code, z.about, z.dedup_key, z.text_vi, z.text_en,
           z.facts, z.created_at
    FROM z, c
    ORDER BY z.o;

    ELSIF NOT fast THEN
    WITH z AS MATERIALIZED (
    SELECT z0.kind, z0.unit_code, z0.about, z0.dedup_key, z0.text_vi, z0.text_en, z0.facts,
           z0.created_at, row_number() OVER (ORDER BY z0.ord) AS o
    FROM (
        SELECT b.ord, 'report.accepted' AS kind, coalesce(b.sent_by, b.unit) AS unit_code,
               b.unit AS about, 'report.accepted:' || b.id AS dedup_key,
               format('Đã nhận báo cáo %s %s (lần %s) của %s%s%s.', b.type, w.what, b.revision,
                      coalesce(u.name, b.unit),
                      CASE WHEN b.sent_by IS NOT NULL
                           THEN ' (đơn vị đã sáp nhập), do ' || coalesce(su.name, b.sent_by)
                                || ' nộp thay'
                           ELSE '' END,
                      CASE s.exp_status WHEN 'on_time' THEN ': đúng hạn'
                                        WHEN 'late' THEN ': chậm hạn (hạn ' || cchc_ymd(s.exp_due)
                                                         || ')'
                                        ELSE '' END) AS text_vi,
               format('Report %s %s (revision %s) of %s%s accepted%s.', b.type, w.what,
                      b.revision, b.unit,
                      CASE WHEN b.sent_by IS NOT NULL THEN ', sent by ' || b.sent_by ELSE '' END,
                      CASE s.exp_status WHEN 'on_time' THEN ', on time'
                                        WHEN 'late' THEN ', late (due ' || cchc_ymd(s.exp_due)
                                                         || ')'
                                        ELSE '' END) AS text_en,
               jsonb_strip_nulls(jsonb_build_object(
                   'type', b.type, 'period', b.period, 'subject', b.subject, 'unit', b.unit,
                   'report_id', b.id, 'revision', b.revision, 'due', cchc_ymd(s.exp_due),
                   'status', s.exp_status,
                   'on_time', CASE s.exp_status WHEN 'on_time' THEN true
                                                WHEN 'late' THEN false END,
                   'sent_by', b.sent_by)) AS facts,
               b.received_at AS created_at
        FROM cchc_sb4 b
        JOIN cchc_sk3 s ON s.ks = b.ks AND s.bn = v_bn
        LEFT JOIN units u ON u.code = b.unit
        LEFT JOIN units su ON su.code = b.sent_by
        CROSS JOIN LATERAL (SELECT cchc_sched_what(b.period, b.subject) AS what) w
        WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
          AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
    ) z0),
    c AS (UPDATE notification_counter SET last_seq = last_seq + (SELECT count(*) FROM z)
          WHERE id = 1 AND EXISTS (SELECT 1 FROM z)
          RETURNING last_seq - (SELECT count(*) FROM z) AS base)
    INSERT INTO notifications (seq, kind, unit_code, about, dedup_key, text_vi, text_en, facts,
                               created_at)
    SELECT c.base + z.o, z.kind, z.unit_code, z.about, z.dedup_key, z.text_vi, z.text_en,
           z.facts, z.created_at
    FROM z, c
    ORDER BY z.o;

    ELSE
    -- The usual batch (037): its expectations met and its receipts written
    -- by one statement, each row its own key. Its rows (e), each with what
    -- its expectation was, the date judged on (its receipt, or its sealing
    -- as a chain's first revision is judged) and what the expectation
    -- becomes, as cchc_sk3's update computes them; read before the update
    -- (one snapshot). (Each found by one probe per row: a join of the rows
    -- with a CTE of them was planned as a nested loop over the CTE for each
    -- row, n x n.)
    WITH e AS MATERIALIZED (
    SELECT b.ord, b.id, b.type, b.period, b.subject, b.unit, b.revision, b.sent_by,
           b.received_at, s.exp_id, s.exp_was, s.exp_due, s.basis, s.v_at, s.exp_status
    FROM cchc_sb4 b
    LEFT JOIN LATERAL (
        SELECT x.id AS exp_id, x.status AS exp_was, x.due AS exp_due,
               CASE WHEN o.sealed THEN 'sealed' ELSE 'received' END AS basis, o.v_at,
               CASE WHEN x.status NOT IN ('expected', 'overdue') THEN x.status
                    WHEN cchc_vn_date(o.v_at) <= x.due + x.grace_days THEN 'on_time'
                    ELSE 'late' END AS exp_status
        FROM expectations x
        JOIN report_types t ON t.code = b.type
        CROSS JOIN LATERAL (SELECT b.sealed_trusted_at IS NOT NULL
                                   AND b.sealed_trusted_at <= b.received_at
                                   AND t.timeliness_basis = 'sealed' AS sealed) o0
        CROSS JOIN LATERAL (SELECT o0.sealed,
                                   CASE WHEN o0.sealed THEN b.sealed_trusted_at
                                        ELSE b.received_at END AS v_at) o
        WHERE x.id = b.exp_id) s ON true
    WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
      AND b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'),
    -- Met now (expected; an overdue one took the other way, see the lock):
    -- its state, report, date and basis; met before (on_time, late): its
    -- report only.
    u AS (
    UPDATE expectations x
    SET status = e.exp_status, report_id = e.id,
        met_at = CASE WHEN e.exp_was IN ('expected', 'overdue') THEN e.v_at
                      ELSE x.met_at END,
        basis = CASE WHEN e.exp_was IN ('expected', 'overdue') THEN e.basis
                     ELSE x.basis END,
        updated_at = now()
    FROM e
    WHERE x.id = e.exp_id AND e.exp_was IN ('expected', 'overdue', 'on_time', 'late')),
    z AS MATERIALIZED (
    SELECT 'report.accepted' AS kind, coalesce(b.sent_by, b.unit) AS unit_code,
           b.unit AS about, 'report.accepted:' || b.id AS dedup_key,
           format('Đã nhận báo cáo %s %s (lần %s) của %s%s%s.', b.type, w.what, b.revision,
                  coalesce(u.name, b.unit),
                  CASE WHEN b.sent_by IS NOT NULL
                       THEN ' (đơn vị đã sáp nhập), do ' || coalesce(su.name, b.sent_by)
                            || ' nộp thay'
                       ELSE '' END,
                  CASE b.exp_status WHEN 'on_time' THEN ': đúng hạn'
                                    WHEN 'late' THEN ': chậm hạn (hạn ' || cchc_ymd(b.exp_due)
                                                     || ')'
                                    ELSE '' END) AS text_vi,
           format('Report %s %s (revision %s) of %s%s accepted%s.', b.type, w.what,
                  b.revision, b.unit,
                  CASE WHEN b.sent_by IS NOT NULL THEN ', sent by ' || b.sent_by ELSE '' END,
                  CASE b.exp_status WHEN 'on_time' THEN ', on time'
                                    WHEN 'late' THEN ', late (due ' || cchc_ymd(b.exp_due)
                                                     || ')'
                                    ELSE '' END) AS text_en,
           jsonb_strip_nulls(jsonb_build_object(
               'type', b.type, 'period', b.period, 'subject', b.subject, 'unit', b.unit,
               'report_id', b.id, 'revision', b.revision, 'due', cchc_ymd(b.exp_due),
               'status', b.exp_status,
               'on_time', CASE b.exp_status WHEN 'on_time' THEN true
                                            WHEN 'late' THEN false END,
               'sent_by', b.sent_by)) AS facts,
           b.received_at AS created_at, row_number() OVER (ORDER BY b.ord) AS o
    FROM e b
    LEFT JOIN units u ON u.code = b.unit
    LEFT JOIN units su ON su.code = b.sent_by
    CROSS JOIN LATERAL (SELECT cchc_sched_what(b.period, b.subject) AS what) w),
    c AS (UPDATE notification_counter SET last_seq = last_seq + (SELECT count(*) FROM z)
          WHERE id = 1 AND EXISTS (SELECT 1 FROM z)
          RETURNING last_seq - (SELECT count(*) FROM z) AS base)
    INSERT INTO notifications (seq, kind, unit_code, about, dedup_key, text_vi, text_en, facts,
                               created_at)
    SELECT c.base + z.o, z.kind, z.unit_code, z.about, z.dedup_key, z.text_vi, z.text_en,
           z.facts, z.created_at
    FROM z, c
    ORDER BY z.o;
    END IF;

    RETURN QUERY
    SELECT b.ord, coalesce(b.id, d.id), b.stored_dup OR b.dup_of IS NOT NULL,
           coalesce(d.status, b.status), coalesce(d.findings, b.findings),
           b.same
    FROM cchc_sb4 b LEFT JOIN cchc_sb4 d ON d.ord = b.dup_of
    WHERE b.ord BETWEEN v_lo AND v_hi AND b.bn = v_bn
    ORDER BY b.ord;
END $$;

-- As 023: its plan is generic, its statements reach the large tables by
-- one index probe per row of the batch, and sequential scans are off.
ALTER FUNCTION cchc_store_batch(jsonb, bytea[]) SET enable_seqscan = off;
REVOKE EXECUTE ON FUNCTION cchc_store_batch(jsonb, bytea[]) FROM PUBLIC;

