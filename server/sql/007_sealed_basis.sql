-- 007_sealed_basis: a type whose timeliness_basis is 'sealed' is judged on the
-- moment the officer sealed the report in the agent, when the agent's clock
-- was within [scheduler] max_clock_skew_ms of the server's at its last contact
-- (DOMAIN.md section 3).
--
-- unit_contacts keeps that clock: clock_skew_ms is the agent's clock minus the
-- server's (ms) on the last message that carried one, measured at
-- clock_checked_at (the server's clock). The server writes it on Hello and,
-- in the report's own transaction, with every report.
--
-- cchc_store_report (created here, not in 003, so that it is written once)
-- takes, besides the report: p_sealed_trusted_at, the sealed
-- instant when the server trusts it (NULL otherwise: it decides in C, from the
-- skew measured on the report's own message, the latest contact), and
-- p_clock_skew_ms, that skew (NULL: unknown, nothing written). The expectation
-- stores the basis used, and met_at is the instant it was judged on.

ALTER TABLE unit_contacts
    ADD COLUMN clock_skew_ms bigint,
    ADD COLUMN clock_checked_at timestamptz;

-- ---- storing a report --------------------------------------------------------------------
--
-- A report row's lifecycle:
--
--   state       event                                         next
--   ----------  --------------------------------------------  ----------
--   (none)      stored by the server, validation found no     accepted
--               error
--   (none)      stored, validation found errors (no parts)    rejected
--   (none)      no errors, but the revision is not newer than  rejected
--               one stored meanwhile (E007, checked here       (E007)
--               under a lock on the report)
--   accepted    a later revision of the same (type, unit,      superseded
--               period, subject) is accepted
--
-- The same (unit, epoch, msg_id) again stores nothing and returns the row
-- already there, with whether its payload is the one given.

CREATE FUNCTION cchc_store_report(
    p_unit text, p_epoch bigint, p_msg_id bigint, p_type text, p_kind text, p_period text,
    p_revision integer, p_subject text, p_sent_at timestamptz, p_sealed_at timestamptz,
    p_payload bytea, p_body jsonb, p_status text, p_findings jsonb,
    p_cutoff_start date, p_cutoff_end date, p_due date, p_received_at timestamptz DEFAULT NULL,
    p_sealed_trusted_at timestamptz DEFAULT NULL, p_clock_skew_ms bigint DEFAULT NULL)
RETURNS TABLE (id bigint, duplicate boolean, status text, findings jsonb, same_payload boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_id bigint;
    v_first timestamptz;
    v_insp bigint;
    v_exp_id bigint;
    v_exp_status text;
    v_exp_due date;
    v_was text;
    v_what text := CASE WHEN p_period <> '' THEN p_period ELSE p_subject END;
    v_name text;
    v_codes text;
    v_basis text := 'received';
    v_at timestamptz;
    v_earlier boolean;
    v_max integer;
    v_now timestamptz := coalesce(p_received_at, now()); -- the server's (injectable) clock
BEGIN
    -- The agent's clock as this message showed it, whatever becomes of the
    -- report: the row is the contact row the server keeps (never created
    -- here, so last_seen stays the contact update's).
    IF p_clock_skew_ms IS NOT NULL THEN
        UPDATE unit_contacts c
        SET clock_skew_ms = p_clock_skew_ms,
            clock_checked_at = coalesce(p_received_at, now())
        WHERE c.unit_code = p_unit
          AND (c.clock_checked_at IS NULL OR c.clock_checked_at <= coalesce(p_received_at, now()));
    END IF;

    INSERT INTO reports (unit_code, agent_epoch, msg_id, report_type, content_kind, period,
                         revision, subject, sent_at, sealed_at, payload, body, status, findings,
                         received_at)
    VALUES (p_unit, p_epoch, p_msg_id, p_type, p_kind, p_period, p_revision, p_subject,
            p_sent_at, p_sealed_at, p_payload, p_body, p_status, p_findings,
            coalesce(p_received_at, now()))
    ON CONFLICT (unit_code, agent_epoch, msg_id) DO NOTHING
    RETURNING reports.id INTO v_id;

    IF v_id IS NULL THEN
        RETURN QUERY SELECT r.id, true, r.status, r.findings, r.payload = p_payload
                     FROM reports r
                     WHERE r.unit_code = p_unit AND r.agent_epoch = p_epoch
                       AND r.msg_id = p_msg_id;
        RETURN;
    END IF;

    -- E007 once more, under a lock on the report (type, unit, period,
    -- subject): the server validated against a context read before the
    -- report's batch, and other servers may be storing the same report, so a
    -- revision that is not newer than one stored since is rejected here
    -- rather than superseding it.
    IF p_status = 'accepted' THEN
        -- A deadlock with another transaction (another server's store, a
        -- scheduler tick taking periods, expectations, then the counter) is
        -- possible in a batch of several reports; the server resends the
        -- batch whole on SQLSTATE 40P01 (srv_batch.c).
        PERFORM pg_advisory_xact_lock(1667458162,  -- 'cchr'
                                      hashtext(p_type || '|' || p_unit || '|' || p_period || '|'
                                               || p_subject));
        SELECT max(r.revision) INTO v_max FROM reports r
        WHERE r.report_type = p_type AND r.unit_code = p_unit AND r.period = p_period
          AND r.subject = p_subject AND r.status IN ('accepted', 'superseded') AND r.id <> v_id;
        IF v_max IS NOT NULL AND p_revision <= v_max THEN
            p_status := 'rejected';
            p_findings := coalesce(p_findings, '[]'::jsonb) || jsonb_build_array(
                jsonb_build_object(
                    'code', 'E007', 'path', '$.revision',
                    'message_vi', format('Đã có bản báo cáo số %s: bản sửa đổi phải ghi revision '
                                         'lớn hơn (ví dụ %s).', v_max, v_max + 1),
                    'message_en', format('Revision %s is already stored: a new version needs a '
                                         'higher revision (e.g. %s).', v_max, v_max + 1)));
            UPDATE reports r SET status = 'rejected', findings = p_findings WHERE r.id = v_id;
        END IF;
    END IF;

    IF p_status <> 'accepted' THEN
        -- report.rejected to the unit, with every error code (rows first:
        -- NOT EXISTS, never ON CONFLICT, which would leave a gap in seq).
        SELECT string_agg(DISTINCT f->>'code', ', ') INTO v_codes
        FROM jsonb_array_elements(coalesce(p_findings, '[]'::jsonb)) f
        WHERE f->>'code' LIKE 'E%';
        INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en, facts,
                                   created_at)
        SELECT 'report.rejected', p_unit, p_unit, 'report.rejected:' || v_id,
               format('Báo cáo %s %s (lần %s) bị từ chối: %s.', p_type, v_what, p_revision,
                      coalesce(v_codes, '')),
               format('Report %s %s (revision %s) was rejected: %s.', p_type, v_what,
                      p_revision, coalesce(v_codes, '')),
               jsonb_build_object('type', p_type, 'period', p_period, 'subject', p_subject,
                                  'unit', p_unit, 'report_id', v_id, 'status', 'rejected',
                                  'errors', coalesce((
                                      SELECT jsonb_agg(f) FROM jsonb_array_elements(
                                          coalesce(p_findings, '[]'::jsonb)) f
                                      WHERE f->>'code' LIKE 'E%'), '[]'::jsonb)),
               v_now
        WHERE NOT EXISTS (SELECT 1 FROM notifications x
                          WHERE x.dedup_key = 'report.rejected:' || v_id);
        RETURN QUERY SELECT v_id, false, p_status, p_findings, true;
        RETURN;
    END IF;

    -- Timeliness stays that of the first accepted revision.
    SELECT min(coalesce(r.first_received_at, r.received_at)) INTO v_first
    FROM reports r
    WHERE r.report_type = p_type AND r.unit_code = p_unit AND r.period = p_period
      AND r.subject = p_subject AND r.status = 'accepted' AND r.id <> v_id;
    UPDATE reports r SET status = 'superseded', superseded_by = v_id
    WHERE r.report_type = p_type AND r.unit_code = p_unit AND r.period = p_period
      AND r.subject = p_subject AND r.status = 'accepted' AND r.id <> v_id;
    v_earlier := v_first IS NOT NULL;
    UPDATE reports r SET first_received_at = coalesce(v_first, r.received_at) WHERE r.id = v_id;

    IF p_kind = 'periodic' THEN
        INSERT INTO dossier_rows (report_id, field, carried_over, new_online, new_direct_postal,
                                  resolved_early, resolved_on_time, resolved_late,
                                  pending_in_time, pending_overdue, comment)
        SELECT v_id, d->>'field', (d->>'carried_over')::bigint, (d->>'new_online')::bigint,
               (d->>'new_direct_postal')::bigint, (d->>'resolved_early')::bigint,
               (d->>'resolved_on_time')::bigint, (d->>'resolved_late')::bigint,
               (d->>'pending_in_time')::bigint, (d->>'pending_overdue')::bigint,
               coalesce(d->>'comment', '')
        FROM jsonb_array_elements(coalesce(p_body->'dossiers', '[]'::jsonb)) d;

        INSERT INTO overdue_dossiers (report_id, seq, code, field, procedure, received, due,
                                      resolved, cause, remedy, apology_number, apology_date,
                                      apology_new_due)
        SELECT v_id, o.seq, coalesce(o.d->>'code', ''), coalesce(o.d->>'field', ''),
               coalesce(o.d->>'procedure', ''), cchc_try_date(o.d->>'received'),
               cchc_try_date(o.d->>'due'), cchc_try_date(o.d->>'resolved'),
               coalesce(o.d->>'cause', ''), coalesce(o.d->>'remedy', ''),
               nullif(o.d->'apology'->>'number', ''), cchc_try_date(o.d->'apology'->>'date'),
               cchc_try_date(o.d->'apology'->>'new_due')
        FROM jsonb_array_elements(coalesce(p_body->'overdue_dossiers', '[]'::jsonb))
             WITH ORDINALITY AS o(d, seq);

        -- The window and due date were computed by the server from the
        -- type's rules and the calendar; a recomputation (the calendar was
        -- corrected) replaces them, an unchanged one writes nothing, so the
        -- audit trigger does not announce a change that is none.
        IF p_period <> '' AND p_cutoff_start IS NOT NULL AND p_cutoff_end IS NOT NULL
           AND EXISTS (SELECT 1 FROM report_types x WHERE x.code = p_type) THEN
            INSERT INTO periods AS p (type_code, period, cutoff_start, cutoff_end, due)
            VALUES (p_type, p_period, p_cutoff_start, p_cutoff_end, p_due)
            ON CONFLICT (type_code, period) DO UPDATE
                SET cutoff_start = EXCLUDED.cutoff_start, cutoff_end = EXCLUDED.cutoff_end,
                    due = coalesce(EXCLUDED.due, p.due)
                WHERE (p.cutoff_start, p.cutoff_end, p.due)
                      IS DISTINCT FROM (EXCLUDED.cutoff_start, EXCLUDED.cutoff_end,
                                        coalesce(EXCLUDED.due, p.due));
        END IF;
    ELSIF p_kind = 'remediation' THEN
        INSERT INTO remediation_items (report_id, finding_no, status, actions, evidence, cause,
                                       plan, expected_by)
        SELECT v_id, (x->>'finding')::integer, x->>'status', coalesce(x->>'actions', ''),
               ARRAY(SELECT jsonb_array_elements_text(coalesce(x->'evidence', '[]'::jsonb))),
               coalesce(x->>'cause', ''), coalesce(x->>'plan', ''),
               cchc_try_date(x->>'expected_by')
        FROM jsonb_array_elements(coalesce(p_body->'items', '[]'::jsonb)) x;

        -- A finding's status follows the latest accepted remediation report.
        SELECT i.id INTO v_insp FROM inspections i
        WHERE i.code = p_subject AND i.unit_code = p_unit;
        IF v_insp IS NOT NULL THEN
            UPDATE inspection_findings f SET status = ri.status
            FROM remediation_items ri
            WHERE ri.report_id = v_id AND f.inspection_id = v_insp AND f.no = ri.finding_no
              AND f.status IS DISTINCT FROM ri.status;
            UPDATE inspections i SET status = 'remediation_received'
            WHERE i.id = v_insp AND i.status NOT IN ('remediation_received', 'closed');
        END IF;
    ELSIF p_kind = 'task_progress' THEN
        INSERT INTO task_progress (report_id, task_code, status, percent, result, evidence)
        VALUES (v_id, coalesce(p_body->>'task', p_subject), p_body->>'status',
                (p_body->>'percent')::integer, coalesce(p_body->>'result', ''),
                ARRAY(SELECT jsonb_array_elements_text(
                          coalesce(p_body->'evidence', '[]'::jsonb))));
    END IF;

    -- The expectation this meets: on time when the first accepted
    -- revision's date (Asia/Ho_Chi_Minh) is on or before due + grace, else
    -- late; a later revision keeps that judgement. The date is the receipt's,
    -- or the sealing's when the type allows it, this is the first accepted
    -- revision, and the server trusted the agent's clock (p_sealed_trusted_at
    -- is NULL when it did not); a sealing after the receipt is no basis.
    SELECT e.id, e.status, e.due INTO v_exp_id, v_was, v_exp_due FROM expectations e
    WHERE e.type_code = p_type AND e.unit_code = p_unit AND e.period = p_period
      AND e.subject = p_subject
    FOR UPDATE;
    IF FOUND THEN
        v_exp_status := v_was;
        SELECT r.first_received_at INTO v_first FROM reports r WHERE r.id = v_id;
        v_at := v_first;
        IF NOT v_earlier AND p_sealed_trusted_at IS NOT NULL
           AND p_sealed_trusted_at <= v_first
           AND EXISTS (SELECT 1 FROM report_types t
                       WHERE t.code = p_type AND t.timeliness_basis = 'sealed') THEN
            v_basis := 'sealed';
            v_at := p_sealed_trusted_at;
        END IF;
        IF v_was IN ('expected', 'overdue') THEN
            UPDATE expectations e
            SET status = CASE WHEN cchc_vn_date(v_at) <= e.due + e.grace_days
                              THEN 'on_time' ELSE 'late' END,
                report_id = v_id, met_at = v_at, basis = v_basis, updated_at = now()
            WHERE e.id = v_exp_id
            RETURNING e.status INTO v_exp_status;
        ELSE
            UPDATE expectations e SET report_id = v_id, updated_at = now()
            WHERE e.id = v_exp_id AND e.status IN ('on_time', 'late');
        END IF;
    END IF;
    SELECT u.name INTO v_name FROM units u WHERE u.code = p_unit;

    INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en, facts,
                                   created_at)
    SELECT 'report.accepted', p_unit, p_unit, 'report.accepted:' || v_id,
           format('Đã nhận báo cáo %s %s (lần %s) của %s%s.', p_type, v_what, p_revision,
                  coalesce(v_name, p_unit),
                  CASE v_exp_status WHEN 'on_time' THEN ': đúng hạn'
                                    WHEN 'late' THEN ': chậm hạn (hạn ' || cchc_ymd(v_exp_due)
                                                     || ')'
                                    ELSE '' END),
           format('Report %s %s (revision %s) of %s accepted%s.', p_type, v_what, p_revision,
                  p_unit,
                  CASE v_exp_status WHEN 'on_time' THEN ', on time'
                                    WHEN 'late' THEN ', late (due ' || cchc_ymd(v_exp_due) || ')'
                                    ELSE '' END),
           jsonb_strip_nulls(jsonb_build_object(
               'type', p_type, 'period', p_period, 'subject', p_subject, 'unit', p_unit,
               'report_id', v_id, 'revision', p_revision, 'due', cchc_ymd(v_exp_due),
               'status', v_exp_status, 'on_time', CASE v_exp_status WHEN 'on_time' THEN true
                                                                    WHEN 'late' THEN false END)),
           v_now
    WHERE NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = 'report.accepted:' || v_id);

    -- An overdue report that finally arrives resolves the alert: the unit
    -- and Home Affairs are told, in this transaction.
    IF v_was = 'overdue' THEN
        INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en, facts,
                                   created_at)
        SELECT 'report.resolved', g.target, p_unit,
               'report.resolved:' || v_exp_id || ':' || g.target,
               -- On time only on the sealed basis: sealed by the due date,
               -- delivered after the overdue notice.
               format('%s đã nộp báo cáo %s %s (hạn %s, %s).', coalesce(v_name, p_unit),
                      p_type, v_what, cchc_ymd(v_exp_due),
                      CASE v_exp_status WHEN 'on_time' THEN 'đúng hạn theo thời điểm niêm phong'
                                        ELSE 'chậm hạn' END),
               format('%s has submitted %s %s (due %s, %s).', p_unit, p_type, v_what,
                      cchc_ymd(v_exp_due),
                      CASE v_exp_status WHEN 'on_time' THEN 'on time by its sealed time'
                                        ELSE 'late' END),
               jsonb_build_object('type', p_type, 'period', p_period, 'subject', p_subject,
                                  'unit', p_unit, 'due', cchc_ymd(v_exp_due),
                                  'status', v_exp_status, 'report_id', v_id,
                                  'expectation', v_exp_id),
               v_now
        FROM unnest(ARRAY[p_unit, '@home_affairs']) WITH ORDINALITY g(target, o)
        WHERE NOT EXISTS (SELECT 1 FROM notifications x
                          WHERE x.dedup_key = 'report.resolved:' || v_exp_id || ':' || g.target)
        ORDER BY g.o;
    END IF;

    RETURN QUERY SELECT v_id, false, p_status, p_findings, true;
END $$;
