-- 003_functions: what the server asks the database in one round trip each.
--
--   cchc_unit_metadata(unit)            the document an agent syncs and validation
--                                       reads (common/cchc_validate.h);
--   cchc_report_context(unit, type,     that document plus what one report needs:
--                       period, subject) its inspection or task, the previous period;
--   (cchc_store_report, which stores one report revision with its parts,
--   is created in 007_sealed_basis, once unit_contacts has its clock columns.)
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
