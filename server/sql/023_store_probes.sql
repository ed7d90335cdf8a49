-- 023_store_probes: cchc_store_batch reaches reports by index probes only,
-- and makes fewer statements a batch.
--
-- cchc_store_batch (017, 020) runs on a generic plan kept for the session.
-- Two of its statements joined the batch's keys with `reports`, and a generic
-- plan made when the table's statistics were stale (ingest grows it faster
-- than autoanalyze follows) turned the join into a scan of every accepted
-- report: auto_explain caught the supersede at 129-138 ms a batch (a bitmap
-- scan of reports_status, 37,152 rows, and an external sort), in a run whose
-- other batches took 1 ms for it. Which plan a session got depended on the
-- moment, which is much of cchc-bench's spread from run to run. Now:
-- - an earlier delivery of a message is one probe of the unique key
--   (unit_code, agent_epoch, msg_id) per message (LATERAL, and see the end);
-- - the supersede runs only when a key has an earlier accepted revision, and
--   finds it by one probe of reports_key per such key (LATERAL), updating
--   through the primary key;
-- - the last revision's id is set with the keys' first and last positions,
--   and an expectation's state, basis, date and outcome are read in one
--   statement (two statements fewer a batch; each was 1-2 ms);
-- - the receipts go straight into notifications, numbered as they are
--   inserted, without the temporary table cchc_sn (two statements were 8 ms
--   a batch);
-- - the units' contact rows are locked in the order of their codes before
--   the clock's update, as the notification acks lock them (the two
--   deadlocked: a 1 s stall at deadlock_timeout, then a retry).
-- What the function writes is unchanged.

CREATE OR REPLACE FUNCTION cchc_store_batch(p jsonb)
RETURNS TABLE (ord integer, id bigint, duplicate boolean, status text, findings jsonb,
               same_payload boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    n integer;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS cchc_sb (
        ord integer, unit text, epoch bigint, msg_id bigint, type text, kind text,
        period text, revision integer, subject text, sent_at timestamptz, sealed_at timestamptz,
        payload bytea, body jsonb, status text, findings jsonb, cutoff_start date,
        cutoff_end date, due date, received_at timestamptz, sealed_trusted_at timestamptz,
        skew bigint, id bigint, dup_of integer, stored_dup boolean DEFAULT false,
        same boolean DEFAULT true, k text, k_hash integer, sent_by text, PRIMARY KEY (ord));
    -- Per report key with a revision accepted in this batch.
    CREATE TEMP TABLE IF NOT EXISTS cchc_sk (
        k text, type text, unit text, period text, subject text, kind text,
        stored_max integer, stored_first timestamptz,
        first_ord integer, last_ord integer, last_id bigint, earlier boolean,
        chain_first timestamptz, v_at timestamptz, basis text, exp_id bigint, exp_was text,
        exp_status text, exp_due date, exp_grace integer, PRIMARY KEY (k));
    -- Emptied by DELETE, which costs next to nothing; TRUNCATE (or ON COMMIT
    -- DELETE ROWS) makes new files for each table and index and took most of
    -- a small batch's time. What the deleted rows leave is reclaimed by a
    -- TRUNCATE once the tables have grown past 2 MB. (It was 16 MB, 017: but
    -- every statement on these tables reads the dead rows too, all their
    -- pages, and past temp_buffers (8 MB) from the files.)
    IF pg_total_relation_size('pg_temp.cchc_sb') + pg_total_relation_size('pg_temp.cchc_sk')
       > 2 * 1024 * 1024 THEN
        TRUNCATE cchc_sb, cchc_sk;
    ELSE
        DELETE FROM cchc_sb;
        DELETE FROM cchc_sk;
    END IF;

    INSERT INTO cchc_sb (ord, unit, epoch, msg_id, type, kind, period, revision, subject, sent_at,
                         sealed_at, payload, body, status, findings, cutoff_start, cutoff_end,
                         due, received_at, sealed_trusted_at, skew, k, k_hash, id, sent_by)
    SELECT x.ord, x.unit, x.epoch, x.msg_id, x.type, x.kind, x.period, x.revision, x.subject,
           to_timestamp(x.sent_at / 1000.0),
           CASE WHEN x.sealed_at > 0 THEN to_timestamp(x.sealed_at / 1000.0) END,
           decode(x.payload, 'base64'), x.body, x.status, coalesce(x.findings, '[]'::jsonb),
           x.cutoff_start, x.cutoff_end, x.due, to_timestamp(x.received_at / 1000.0),
           to_timestamp(x.sealed_trusted_at / 1000.0), x.skew,
           x.type || '|' || x.unit || '|' || x.period || '|' || x.subject,
           hashtext(x.type || '|' || x.unit || '|' || x.period || '|' || x.subject),
           nextval(pg_get_serial_sequence('reports', 'id')), nullif(x.sent_by, x.unit)
    FROM jsonb_to_recordset(p) AS x(ord integer, unit text, epoch bigint, msg_id bigint,
                                    type text, kind text, period text, revision integer,
                                    subject text, sent_at bigint, sealed_at bigint, payload text,
                                    body jsonb, status text, findings jsonb, cutoff_start date,
                                    cutoff_end date, due date, received_at bigint,
                                    sealed_trusted_at bigint, skew bigint, sent_by text)
    ORDER BY x.ord;

    -- The same message twice in the batch: the later copy is answered as the first.
    UPDATE cchc_sb b SET dup_of = f.first
    FROM (SELECT b2.unit, b2.epoch, b2.msg_id, min(b2.ord) AS first FROM cchc_sb b2
          GROUP BY b2.unit, b2.epoch, b2.msg_id HAVING count(*) > 1) f
    WHERE b.unit = f.unit AND b.epoch = f.epoch AND b.msg_id = f.msg_id AND b.ord <> f.first;
    -- E007 under a lock on each report key (type, unit, period, subject),
    -- taken in one order by every server so that two batches cannot deadlock
    -- on them. Under it, a message another server stored meanwhile is seen
    -- as stored (its key is its report's), and the revisions stored for the
    -- key are final.
    PERFORM pg_advisory_xact_lock(1667458162, l.k_hash)  -- 'cchr', as cchc_store_report
    FROM (SELECT DISTINCT b.k_hash FROM cchc_sb b
          WHERE b.dup_of IS NULL AND b.status = 'accepted'
          ORDER BY b.k_hash) l;
    -- Stored before: answered from the stored row, found by one probe of the
    -- unique key per message (LATERAL: never a join over all of reports).
    UPDATE cchc_sb b SET stored_dup = true, id = r.id, status = r.status, findings = r.findings,
                         same = r.payload = b.payload
    FROM (SELECT b2.ord, r2.id, r2.status, r2.findings, r2.payload
          FROM cchc_sb b2
          CROSS JOIN LATERAL (SELECT r3.id, r3.status, r3.findings, r3.payload FROM reports r3
                              WHERE r3.unit_code = b2.unit AND r3.agent_epoch = b2.epoch
                                AND r3.msg_id = b2.msg_id
                              OFFSET 0) r2
          WHERE b2.dup_of IS NULL) r
    WHERE b.ord = r.ord;

    -- Per key: the highest stored revision and the first receipt of its
    -- chain. The highest stored revision is the accepted one (a revision is
    -- superseded only by a higher one, accepted), so the partial index
    -- reports_key (accepted rows) answers, one probe per key.
    INSERT INTO cchc_sk (k, type, unit, period, subject, kind, stored_max, stored_first)
    SELECT g.k, g.type, g.unit, g.period, g.subject, g.kind, st.m, st.first
    FROM (SELECT b.k, min(b.type) AS type, min(b.unit) AS unit, min(b.period) AS period,
                 min(b.subject) AS subject, min(b.kind) AS kind
          FROM cchc_sb b
          WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          GROUP BY b.k) g
    CROSS JOIN LATERAL (
        SELECT max(r.revision) AS m, min(coalesce(r.first_received_at, r.received_at)) AS first
        FROM reports r
        WHERE r.report_type = g.type AND r.unit_code = g.unit AND r.period = g.period
          AND r.subject = g.subject AND r.status = 'accepted') st;
    -- A revision must be newer than every stored one and every earlier one
    -- of the batch (a refused one never is the highest).
    UPDATE cchc_sb b
    SET status = 'rejected',
        findings = b.findings || jsonb_build_array(jsonb_build_object(
            'code', 'E007', 'path', '$.revision',
            'message_vi', format('Đã có bản báo cáo số %s: bản sửa đổi phải ghi revision '
                                 'lớn hơn (ví dụ %s).', t.m, t.m + 1),
            'message_en', format('Revision %s is already stored: a new version needs a '
                                 'higher revision (e.g. %s).', t.m, t.m + 1)))
    FROM (SELECT c.ord, greatest(s.stored_max, c.prior) AS m
          FROM (SELECT b2.ord, b2.revision, b2.k,
                       max(b2.revision) OVER (PARTITION BY b2.k ORDER BY b2.ord
                                              ROWS BETWEEN UNBOUNDED PRECEDING
                                                       AND 1 PRECEDING) AS prior
                FROM cchc_sb b2
                WHERE b2.dup_of IS NULL AND NOT b2.stored_dup AND b2.status = 'accepted') c
          JOIN cchc_sk s ON s.k = c.k
          WHERE c.revision <= greatest(s.stored_max, c.prior)) t
    WHERE b.ord = t.ord;
    -- The accepted revisions per key; a key left with none is dropped. The
    -- timeliness of a chain stays that of its first accepted revision.
    UPDATE cchc_sk s
    SET first_ord = a.first_ord, last_ord = a.last_ord, earlier = s.stored_first IS NOT NULL,
        chain_first = coalesce(s.stored_first, f.received_at), last_id = l.id
    FROM (SELECT b.k, min(b.ord) AS first_ord, max(b.ord) AS last_ord FROM cchc_sb b
          WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          GROUP BY b.k) a
    JOIN cchc_sb f ON f.ord = a.first_ord
    JOIN cchc_sb l ON l.ord = a.last_ord
    WHERE a.k = s.k;
    DELETE FROM cchc_sk s WHERE s.first_ord IS NULL;

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
           b.sent_at, b.sealed_at, b.payload, b.body,
           CASE WHEN b.next_id IS NOT NULL THEN 'superseded' ELSE b.status END,
           b.findings, b.received_at, s.chain_first, b.next_id, b.sent_by
    FROM (SELECT b2.*,
                 CASE WHEN b2.status = 'accepted'
                      THEN lead(b2.id) OVER (PARTITION BY b2.k, b2.status = 'accepted'
                                             ORDER BY b2.ord) END AS next_id
          FROM cchc_sb b2
          WHERE b2.dup_of IS NULL AND NOT b2.stored_dup) b
    LEFT JOIN cchc_sk s ON s.k = b.k AND b.status = 'accepted'
    ORDER BY b.ord;

    SELECT count(*) INTO n FROM cchc_sk;
    IF n > 0 THEN
        -- The stored accepted revision is superseded by the batch's first:
        -- found by one probe of reports_key per key with an earlier revision
        -- (LATERAL), updated through the primary key. A join of the keys
        -- with reports let the planner scan every accepted report and sort
        -- them (136 ms a batch at 37,000 reports, growing with the table).
        IF EXISTS (SELECT 1 FROM cchc_sk s WHERE s.earlier) THEN
            WITH o AS MATERIALIZED (
                SELECT x.id, f.id AS by_id
                FROM cchc_sk s
                JOIN cchc_sb f ON f.ord = s.first_ord
                CROSS JOIN LATERAL (SELECT r2.id FROM reports r2
                                    WHERE r2.report_type = s.type AND r2.unit_code = s.unit
                                      AND r2.period = s.period AND r2.subject = s.subject
                                      AND r2.status = 'accepted' AND r2.id <> s.last_id
                                    OFFSET 0) x
                WHERE s.earlier)
            UPDATE reports r SET status = 'superseded', superseded_by = o.by_id
            FROM o
            WHERE r.id = ANY (ARRAY(SELECT o2.id FROM o o2)) AND r.id = o.id;
        END IF;

        -- ---- the parts of every accepted revision -------------------------------------
        INSERT INTO dossier_rows (report_id, field, carried_over, new_online, new_direct_postal,
                                  resolved_early, resolved_on_time, resolved_late,
                                  pending_in_time, pending_overdue, comment)
        SELECT b.id, d->>'field', (d->>'carried_over')::bigint, (d->>'new_online')::bigint,
               (d->>'new_direct_postal')::bigint, (d->>'resolved_early')::bigint,
               (d->>'resolved_on_time')::bigint, (d->>'resolved_late')::bigint,
               (d->>'pending_in_time')::bigint, (d->>'pending_overdue')::bigint,
               coalesce(d->>'comment', '')
        FROM cchc_sb b, jsonb_array_elements(coalesce(b.body->'dossiers', '[]'::jsonb)) d
        WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          AND b.kind = 'periodic';
        INSERT INTO overdue_dossiers (report_id, seq, code, field, procedure, received, due,
                                      resolved, cause, remedy, apology_number, apology_date,
                                      apology_new_due)
        SELECT b.id, o.seq, coalesce(o.d->>'code', ''), coalesce(o.d->>'field', ''),
               coalesce(o.d->>'procedure', ''), cchc_try_date(o.d->>'received'),
               cchc_try_date(o.d->>'due'), cchc_try_date(o.d->>'resolved'),
               coalesce(o.d->>'cause', ''), coalesce(o.d->>'remedy', ''),
               nullif(o.d->'apology'->>'number', ''), cchc_try_date(o.d->'apology'->>'date'),
               cchc_try_date(o.d->'apology'->>'new_due')
        FROM cchc_sb b,
             jsonb_array_elements(coalesce(b.body->'overdue_dossiers', '[]'::jsonb))
                 WITH ORDINALITY AS o(d, seq)
        WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          AND b.kind = 'periodic';
        -- The window and due date the server computed; a corrected one replaces them.
        -- A row already so is not upserted: ON CONFLICT DO UPDATE locks the
        -- row even when its WHERE says no, and would wait for a scheduler
        -- tick that holds it.
        INSERT INTO periods AS p (type_code, period, cutoff_start, cutoff_end, due)
        SELECT w.type, w.period, w.cutoff_start, w.cutoff_end, w.due
        FROM (SELECT DISTINCT ON (b.type, b.period) b.type, b.period, b.cutoff_start,
                     b.cutoff_end, b.due
              FROM cchc_sb b
              WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
                AND b.kind = 'periodic' AND b.period <> '' AND b.cutoff_start IS NOT NULL
                AND b.cutoff_end IS NOT NULL
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
        INSERT INTO remediation_items (report_id, finding_no, status, actions, evidence, cause,
                                       plan, expected_by)
        SELECT b.id, (x->>'finding')::integer, x->>'status', coalesce(x->>'actions', ''),
               ARRAY(SELECT jsonb_array_elements_text(coalesce(x->'evidence', '[]'::jsonb))),
               coalesce(x->>'cause', ''), coalesce(x->>'plan', ''),
               cchc_try_date(x->>'expected_by')
        FROM cchc_sb b, jsonb_array_elements(coalesce(b.body->'items', '[]'::jsonb)) x
        WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          AND b.kind = 'remediation';
        -- A finding's status follows the latest accepted remediation report.
        UPDATE inspection_findings f SET status = ri.status
        FROM cchc_sk s
        JOIN inspections i ON i.code = s.subject AND i.unit_code = s.unit
        JOIN remediation_items ri ON ri.report_id = s.last_id
        WHERE s.kind = 'remediation' AND f.inspection_id = i.id AND f.no = ri.finding_no
          AND f.status IS DISTINCT FROM ri.status;
        UPDATE inspections i SET status = 'remediation_received'
        FROM cchc_sk s
        WHERE s.kind = 'remediation' AND i.code = s.subject AND i.unit_code = s.unit
          AND i.status NOT IN ('remediation_received', 'closed');
        INSERT INTO task_progress (report_id, task_code, status, percent, result, evidence)
        SELECT b.id, coalesce(b.body->>'task', b.subject), b.body->>'status',
               (b.body->>'percent')::integer, coalesce(b.body->>'result', ''),
               ARRAY(SELECT jsonb_array_elements_text(coalesce(b.body->'evidence',
                                                               '[]'::jsonb)))
        FROM cchc_sb b
        WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          AND b.kind = 'task_progress';

        -- ---- the expectations they meet (cchc_store_report's rule) ----------------------
        -- Locked in one order. The date judged on is the chain's first receipt,
        -- or the sealing of its first revision when the type allows it, that
        -- revision is in this batch (no earlier one), the server trusted the
        -- agent's clock, and the sealing is not after the receipt.
        -- Each step one index probe per key, whatever the planner thinks of
        -- the temporary tables (they have no statistics).
        UPDATE cchc_sk s
        SET exp_id = (SELECT x.id FROM expectations x
                      WHERE x.type_code = s.type AND x.unit_code = s.unit
                        AND x.period = s.period AND x.subject = s.subject);
        PERFORM 1 FROM expectations x
        WHERE x.id = ANY (ARRAY(SELECT s.exp_id FROM cchc_sk s WHERE s.exp_id IS NOT NULL))
        ORDER BY x.id FOR UPDATE;
        UPDATE cchc_sk s
        SET (exp_was, exp_due, exp_grace, basis, v_at, exp_status) = (
                SELECT x.status, x.due, x.grace_days,
                       CASE WHEN o.sealed THEN 'sealed' ELSE 'received' END, o.v_at,
                       CASE WHEN x.status NOT IN ('expected', 'overdue') THEN x.status
                            WHEN cchc_vn_date(o.v_at) <= x.due + x.grace_days
                            THEN 'on_time' ELSE 'late' END
                FROM expectations x
                CROSS JOIN cchc_sb f
                JOIN report_types t ON t.code = f.type
                CROSS JOIN LATERAL (SELECT NOT s.earlier AND f.sealed_trusted_at IS NOT NULL
                                           AND f.sealed_trusted_at <= s.chain_first
                                           AND t.timeliness_basis = 'sealed' AS sealed) o0
                CROSS JOIN LATERAL (SELECT o0.sealed,
                                           CASE WHEN o0.sealed THEN f.sealed_trusted_at
                                                ELSE s.chain_first END AS v_at) o
                WHERE x.id = s.exp_id AND f.ord = s.first_ord)
        WHERE s.exp_id IS NOT NULL;
        UPDATE expectations e
        SET status = s.exp_status, report_id = s.last_id, met_at = s.v_at, basis = s.basis,
            updated_at = now()
        FROM cchc_sk s
        WHERE e.id = ANY (ARRAY(SELECT s2.exp_id FROM cchc_sk s2
                                WHERE s2.exp_was IN ('expected', 'overdue')))
          AND e.id = s.exp_id;
        UPDATE expectations e SET report_id = s.last_id, updated_at = now()
        FROM cchc_sk s
        WHERE e.id = ANY (ARRAY(SELECT s2.exp_id FROM cchc_sk s2
                                WHERE s2.exp_was IN ('on_time', 'late')))
          AND e.id = s.exp_id;
    END IF;

    -- The agent's clock as its last message of the batch showed it; late in
    -- the transaction, so that the row is held only to the commit (the
    -- server's other connection writes the contact's acks).
    -- Locked in the order of their codes first, as the notification acks
    -- (srv_notify.c) lock them: in the join's order, a store and an ack
    -- deadlocked on two units' rows (cchc-bench light load: 40P01 after the
    -- 1 s deadlock_timeout, a batch answered 1.2 s late).
    PERFORM 1 FROM unit_contacts c
    WHERE c.unit_code = ANY (ARRAY(SELECT DISTINCT b.unit FROM cchc_sb b
                                   WHERE b.skew IS NOT NULL))
    ORDER BY c.unit_code FOR UPDATE;
    UPDATE unit_contacts c SET clock_skew_ms = s.skew, clock_checked_at = s.received_at
    FROM (SELECT DISTINCT ON (b.unit) b.unit, b.skew, b.received_at FROM cchc_sb b
          WHERE b.skew IS NOT NULL ORDER BY b.unit, b.ord DESC) s
    WHERE c.unit_code = s.unit
      AND (c.clock_checked_at IS NULL OR c.clock_checked_at <= s.received_at);

    -- ---- the receipts, in the batch's order -----------------------------------------------
    -- report.accepted and report.rejected per new row; report.resolved to the
    -- unit and Home Affairs when an overdue obligation is met (texts as 007).
    -- Numbered at once, in that order, as they are inserted (the counter is
    -- held to the commit; not touched when there are none).
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
        FROM cchc_sb b
        CROSS JOIN LATERAL (SELECT cchc_sched_what(b.period, b.subject) AS what) w
        CROSS JOIN LATERAL (SELECT string_agg(DISTINCT f->>'code', ', ') AS codes,
                                   jsonb_agg(f) AS errors
                            FROM jsonb_array_elements(b.findings) f
                            WHERE f->>'code' LIKE 'E%') c
        WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'rejected'
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
        FROM cchc_sb b
        JOIN cchc_sk s ON s.k = b.k
        LEFT JOIN units u ON u.code = b.unit
        LEFT JOIN units su ON su.code = b.sent_by
        CROSS JOIN LATERAL (SELECT cchc_sched_what(b.period, b.subject) AS what) w
        WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
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
        FROM cchc_sk s
        JOIN cchc_sb f ON f.ord = s.last_ord
        LEFT JOIN units u ON u.code = s.unit
        LEFT JOIN units su ON su.code = f.sent_by
        CROSS JOIN LATERAL (VALUES (1, coalesce(f.sent_by, s.unit)), (2, '@home_affairs'))
            g(o, target)
        WHERE s.exp_was = 'overdue'
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

    RETURN QUERY
    SELECT b.ord, coalesce(b.id, d.id), b.stored_dup OR b.dup_of IS NOT NULL,
           coalesce(d.status, b.status), coalesce(d.findings, b.findings),
           CASE WHEN b.dup_of IS NOT NULL THEN b.payload = d.payload ELSE b.same END
    FROM cchc_sb b LEFT JOIN cchc_sb d ON d.ord = b.dup_of
    ORDER BY b.ord;
END $$;

-- Its plan is generic (made at a session's first batch, kept until the
-- statistics of a table it reads change) and must stay right as `reports`
-- grows from nothing: a server started on a new database made it while
-- `reports` held a few rows, and (autovacuum looks at a database once a
-- minute) the probes of reports_key became a hash join over the whole index
-- and a sequential scan of reports, 0.15 s a batch at first and 5.9 s a
-- batch 20 s later (auto_explain, cchc-bench light load, one run in two).
-- Its statements reach the large tables by one probe per row of the batch:
-- LATERAL subqueries with OFFSET 0, which keeps the planner from flattening
-- them into a join (turning off hash and merge joins instead, it made a
-- nested loop over reports_key's whole index, materialised: 60-150 ms a
-- batch), and scalar subqueries; and sequential scans are off, so that each
-- probe takes its index whatever the statistics say.
ALTER FUNCTION cchc_store_batch(jsonb) SET enable_seqscan = off;
