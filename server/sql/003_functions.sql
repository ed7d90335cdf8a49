-- 003_functions: what the server asks the database in one round trip each.
--
--   cchc_unit_metadata(unit)            the document an agent syncs and validation
--                                       reads (common/cchc_validate.h);
--   cchc_report_context(unit, type,     that document plus what one report needs:
--                       period, subject) its inspection or task, the previous period;
--   cchc_store_report(...)              one report revision stored with its parts,
--                                       idempotent on (unit, epoch, msg_id).
--
-- The documents are versioned by a hash of their text, so every list is
-- ordered and every date is written as YYYY-MM-DD whatever DateStyle says.

-- ---- helpers -------------------------------------------------------------------------

CREATE FUNCTION cchc_ymd(d date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(d, 'YYYY-MM-DD')
$$;

-- A date from a report's text, NULL when empty or not a real date: the parts
-- tables keep what can be read; validation has already judged the rest.
CREATE FUNCTION cchc_try_date(t text) RETURNS date
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF t IS NULL OR t !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN NULL;
    END IF;
    RETURN t::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- The civil date in Asia/Ho_Chi_Minh (UTC+7, no DST) of an instant, without
-- depending on the server's time zone data.
CREATE FUNCTION cchc_vn_date(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT ((t AT TIME ZONE 'UTC') + interval '7 hours')::date
$$;

-- The first day of a period's data window, as cchc_period_range computes it
-- (common/cchc_period.c), for a period that has no periods row yet.
-- NULL when the id does not parse.
CREATE FUNCTION cchc_period_cutoff_start(p_period text, p_rule text) RETURNS date
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    y int;
    first_month int;
    m text[];
BEGIN
    m := regexp_match(p_period, '^([0-9]{4})(Q[1-4]|S[12]|N9|0[1-9]|1[0-2])?$');
    IF m IS NULL THEN
        RETURN NULL;
    END IF;
    y := m[1]::int;
    first_month := CASE
        WHEN m[2] IS NULL OR m[2] IN ('S1', 'N9') THEN 1
        WHEN m[2] = 'S2' THEN 7
        WHEN m[2] LIKE 'Q%' THEN (substr(m[2], 2)::int - 1) * 3 + 1
        ELSE m[2]::int END;
    IF p_rule = 'dec09' THEN
        RETURN (make_date(y, first_month, 15) - interval '1 month')::date;
    END IF;
    RETURN make_date(y, first_month, 1);
END $$;

CREATE FUNCTION cchc_inspection_json(i inspections) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'code', i.code, 'unit', i.unit_code, 'team', i.team,
        'date', cchc_ymd(i.inspected_on),
        'conclusion', i.conclusion_number || ' ' || cchc_ymd(i.conclusion_date),
        'due', cchc_ymd(i.remediation_due), 'status', i.status,
        'findings', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                  'no', f.no, 'text', f.text, 'status', f.status)
                                  ORDER BY f.no)
                              FROM inspection_findings f WHERE f.inspection_id = i.id),
                             '[]'::jsonb))
$$;

-- A task as the document shows it; assigned when the unit or its kind leads
-- or supports it.
CREATE FUNCTION cchc_task_json(t plan_tasks, p_unit text, p_kind text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'code', t.code, 'title', t.title, 'index', t.index_name, 'dimension', t.dimension,
        'target', t.target, 'lead', to_jsonb(t.lead), 'support', to_jsonb(t.support),
        'due', cchc_ymd(t.due),
        'assigned', coalesce(p_unit = ANY (t.lead || t.support)
                             OR '@' || p_kind = ANY (t.lead || t.support), false))
$$;

-- ---- the unit's metadata -------------------------------------------------------------

CREATE FUNCTION cchc_unit_metadata(p_unit text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u units%ROWTYPE;
    known boolean;
    inspected boolean;
    leads boolean;
BEGIN
    SELECT * INTO u FROM units WHERE code = p_unit;
    known := FOUND;
    inspected := known AND EXISTS (SELECT 1 FROM inspections i WHERE i.unit_code = p_unit);
    leads := known AND EXISTS (SELECT 1 FROM plan_tasks t
                               WHERE p_unit = ANY (t.lead) OR '@' || u.kind = ANY (t.lead));
    RETURN jsonb_build_object(
        'unit', CASE WHEN known THEN jsonb_strip_nulls(jsonb_build_object(
                    'code', u.code, 'kind', u.kind, 'name', u.name,
                    'valid_from', cchc_ymd(u.valid_from), 'valid_to', cchc_ymd(u.valid_to)))
                END,
        'types', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'code', t.code, 'name_vi', t.name_vi, 'content_kind', t.content_kind,
                       'periods', to_jsonb(t.periods), 'cutoff_rule', t.cutoff_rule,
                       'due_rule', t.due_rule, 'grace_days', t.grace_days,
                       'expiry_days', t.expiry_days, 'timeliness_basis', t.timeliness_basis,
                       'assigned', known AND EXISTS (
                           SELECT 1 FROM type_assignments a
                           WHERE a.type_code = t.code
                             AND (a.target = p_unit OR a.target = '@' || u.kind
                                  OR (a.target = '@inspected' AND inspected)
                                  OR (a.target = '@task_lead' AND leads))))
                   ORDER BY t.code)
            FROM report_types t), '[]'::jsonb),
        'calendar', coalesce((
            SELECT jsonb_agg(jsonb_build_object('date', cchc_ymd(c.day), 'kind', c.kind,
                                                'note', c.note) ORDER BY c.day)
            FROM calendar_days c), '[]'::jsonb),
        'inspections', coalesce((
            SELECT jsonb_agg(cchc_inspection_json(i) ORDER BY i.inspected_on, i.code)
            FROM inspections i WHERE i.unit_code = p_unit AND i.status <> 'closed'),
            '[]'::jsonb),
        'tasks', coalesce((
            SELECT jsonb_agg(cchc_task_json(t, p_unit, u.kind) ORDER BY t.code)
            FROM plan_tasks t
            WHERE known AND (p_unit = ANY (t.lead || t.support)
                             OR '@' || u.kind = ANY (t.lead || t.support))), '[]'::jsonb),
        'revisions', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'type', r.report_type, 'period', r.period, 'subject', r.subject,
                       'revision', r.revision,
                       'locked', EXISTS (SELECT 1 FROM periods p
                                         WHERE p.type_code = r.report_type
                                           AND p.period = r.period
                                           AND p.locked_at IS NOT NULL),
                       'first_received', cchc_ymd(cchc_vn_date(
                           coalesce(r.first_received_at, r.received_at))))
                   ORDER BY r.report_type, r.period, r.subject)
            FROM (SELECT DISTINCT ON (x.report_type, x.period, x.subject) x.*
                  FROM reports x
                  WHERE x.unit_code = p_unit AND x.status = 'accepted'
                  ORDER BY x.report_type, x.period, x.subject, x.revision DESC, x.id DESC) r),
            '[]'::jsonb),
        'settings', jsonb_build_object('apology_slip', 'error'));
END $$;

-- ---- the context of one report ---------------------------------------------------------

CREATE FUNCTION cchc_report_context(p_unit text, p_type text, p_period text, p_subject text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    doc jsonb := cchc_unit_metadata(p_unit);
    v_kind text := (SELECT u.kind FROM units u WHERE u.code = p_unit);
    t report_types%ROWTYPE;
    i inspections%ROWTYPE;
    k plan_tasks%ROWTYPE;
    v_start date;
    prev record;
BEGIN
    IF coalesce(p_subject, '') <> '' THEN
        -- E040 must be able to say "this inspection is another unit's" or
        -- "it is closed", so it is added whoever it belongs to.
        SELECT * INTO i FROM inspections x WHERE x.code = p_subject;
        IF FOUND AND NOT doc->'inspections' @> jsonb_build_array(
                             jsonb_build_object('code', p_subject)) THEN
            doc := jsonb_set(doc, '{inspections}',
                             doc->'inspections' || jsonb_build_array(cchc_inspection_json(i)));
        END IF;
        SELECT * INTO k FROM plan_tasks x WHERE x.code = p_subject;
        IF FOUND AND NOT doc->'tasks' @> jsonb_build_array(jsonb_build_object('code', p_subject))
        THEN
            doc := jsonb_set(doc, '{tasks}',
                             doc->'tasks' || jsonb_build_array(cchc_task_json(k, p_unit, v_kind)));
        END IF;
    END IF;

    -- W015: the accepted report of the period whose window ends the day
    -- before this one starts (several may: Q4, S2 and Y all end on 14
    -- December; they describe the same day's pending dossiers, the shortest
    -- window is taken).
    SELECT * INTO t FROM report_types x WHERE x.code = p_type;
    IF FOUND AND t.content_kind = 'periodic' AND coalesce(p_period, '') <> '' THEN
        v_start := coalesce((SELECT p.cutoff_start FROM periods p
                             WHERE p.type_code = p_type AND p.period = p_period),
                            cchc_period_cutoff_start(p_period, t.cutoff_rule));
        SELECT r.id, r.period INTO prev
        FROM reports r JOIN periods p ON p.type_code = r.report_type AND p.period = r.period
        WHERE r.unit_code = p_unit AND r.report_type = p_type AND r.status = 'accepted'
          AND r.period <> p_period AND p.cutoff_end = v_start - 1
        ORDER BY p.cutoff_start DESC, r.period, r.revision DESC, r.id DESC
        LIMIT 1;
        IF FOUND THEN
            doc := doc || jsonb_build_object('previous', jsonb_build_object(
                'type', p_type, 'period', prev.period,
                'pending', coalesce((SELECT jsonb_object_agg(d.field,
                                         d.pending_in_time + d.pending_overdue ORDER BY d.field)
                                     FROM dossier_rows d WHERE d.report_id = prev.id),
                                    '{}'::jsonb)));
        END IF;
    END IF;
    RETURN doc;
END $$;

-- ---- storing a report --------------------------------------------------------------------
--
-- A report row's lifecycle:
--
--   state       event                                         next
--   ----------  --------------------------------------------  ----------
--   (none)      stored by the server, validation found no     accepted
--               error
--   (none)      stored, validation found errors (no parts)    rejected
--   accepted    a later revision of the same (type, unit,      superseded
--               period, subject) is accepted
--
-- The same (unit, epoch, msg_id) again stores nothing and returns the row
-- already there, with whether its payload is the one given.

CREATE FUNCTION cchc_store_report(
    p_unit text, p_epoch bigint, p_msg_id bigint, p_type text, p_kind text, p_period text,
    p_revision integer, p_subject text, p_sent_at timestamptz, p_sealed_at timestamptz,
    p_payload bytea, p_body jsonb, p_status text, p_findings jsonb,
    p_cutoff_start date, p_cutoff_end date, p_due date, p_received_at timestamptz DEFAULT NULL)
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
BEGIN
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
    IF p_status <> 'accepted' THEN
        -- report.rejected to the unit, with every error code (rows first:
        -- NOT EXISTS, never ON CONFLICT, which would leave a gap in seq).
        SELECT string_agg(DISTINCT f->>'code', ', ') INTO v_codes
        FROM jsonb_array_elements(coalesce(p_findings, '[]'::jsonb)) f
        WHERE f->>'code' LIKE 'E%';
        INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
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
                                      WHERE f->>'code' LIKE 'E%'), '[]'::jsonb))
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
    -- revision's receipt date (Asia/Ho_Chi_Minh) is on or before due +
    -- grace, else late; a later revision keeps that judgement.
    SELECT e.id, e.status, e.due INTO v_exp_id, v_was, v_exp_due FROM expectations e
    WHERE e.type_code = p_type AND e.unit_code = p_unit AND e.period = p_period
      AND e.subject = p_subject
    FOR UPDATE;
    IF FOUND THEN
        v_exp_status := v_was;
        SELECT r.first_received_at INTO v_first FROM reports r WHERE r.id = v_id;
        IF v_was IN ('expected', 'overdue') THEN
            UPDATE expectations e
            SET status = CASE WHEN cchc_vn_date(v_first) <= e.due + e.grace_days
                              THEN 'on_time' ELSE 'late' END,
                report_id = v_id, met_at = v_first, basis = 'received', updated_at = now()
            WHERE e.id = v_exp_id
            RETURNING e.status INTO v_exp_status;
        ELSE
            UPDATE expectations e SET report_id = v_id, updated_at = now()
            WHERE e.id = v_exp_id AND e.status IN ('on_time', 'late');
        END IF;
    END IF;
    SELECT u.name INTO v_name FROM units u WHERE u.code = p_unit;

    INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
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
                                                                    WHEN 'late' THEN false END))
    WHERE NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = 'report.accepted:' || v_id);

    -- An overdue report that finally arrives resolves the alert: the unit
    -- and Home Affairs are told, in this transaction.
    IF v_was = 'overdue' THEN
        INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
        SELECT 'report.resolved', g.target, p_unit,
               'report.resolved:' || v_exp_id || ':' || g.target,
               format('%s đã nộp báo cáo %s %s (hạn %s, chậm hạn).', coalesce(v_name, p_unit),
                      p_type, v_what, cchc_ymd(v_exp_due)),
               format('%s has submitted %s %s (due %s, late).', p_unit, p_type, v_what,
                      cchc_ymd(v_exp_due)),
               jsonb_build_object('type', p_type, 'period', p_period, 'subject', p_subject,
                                  'unit', p_unit, 'due', cchc_ymd(v_exp_due),
                                  'status', v_exp_status, 'report_id', v_id,
                                  'expectation', v_exp_id)
        FROM unnest(ARRAY[p_unit, '@home_affairs']) WITH ORDINALITY g(target, o)
        WHERE NOT EXISTS (SELECT 1 FROM notifications x
                          WHERE x.dedup_key = 'report.resolved:' || v_exp_id || ':' || g.target)
        ORDER BY g.o;
    END IF;

    RETURN QUERY SELECT v_id, false, p_status, p_findings, true;
END $$;
