-- 025_task_leads: a unit's tasks found through an index of the tasks'
-- units, not by reading every task.
--
-- cchc_unit_metadata (022) found a unit's tasks, and whether it leads any,
-- with `p_unit = ANY (t.lead)` and `= ANY (t.lead || t.support)`: no index
-- answers those, so each document read all of plan_tasks twice (and built
-- each task's lead || support array). With cchc-bench's 4,000 tasks (the
-- operator change's ingest units lead them) a document of a unit that leads
-- none took 3.2-3.7 ms instead of 0.6 (200 units: 640-740 ms), and an
-- operator change that reads the documents of 10,000 connected agents spent
-- most of its 52 s there. Written as overlaps (&&) with ARRAY[unit,
-- '@' || kind], the same test (a NULL kind matches nothing either way), the
-- two GIN indexes below answer them: 200 units 190-200 ms, the same
-- documents (byte for byte).
--
-- The function keeps 024's settings (a CREATE OR REPLACE resets them).
CREATE INDEX IF NOT EXISTS plan_tasks_lead ON plan_tasks USING gin (lead);
CREATE INDEX IF NOT EXISTS plan_tasks_support ON plan_tasks USING gin (support);

CREATE OR REPLACE FUNCTION cchc_unit_metadata(p_unit text) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    u units%ROWTYPE;
    known boolean;
    inspected boolean;
    leads boolean;
    preds jsonb;
BEGIN
    SELECT * INTO u FROM units WHERE code = p_unit;
    known := FOUND;
    inspected := known AND EXISTS (SELECT 1 FROM inspections i WHERE i.unit_code = p_unit);
    leads := known AND EXISTS (SELECT 1 FROM plan_tasks t
                               WHERE t.lead && ARRAY[p_unit, '@' || u.kind]);
    IF known THEN
        WITH RECURSIVE pr (code, depth, path) AS (
            SELECT x.code, 1, ARRAY[p_unit, x.code] FROM units x
            WHERE x.successor = p_unit AND x.code <> p_unit
            UNION ALL
            SELECT x.code, pr.depth + 1, pr.path || x.code
            FROM pr JOIN units x ON x.successor = pr.code
            WHERE NOT x.code = ANY (pr.path) AND pr.depth < 32)
        SELECT jsonb_agg(jsonb_build_object(
                   'unit', jsonb_strip_nulls(jsonb_build_object(
                       'code', p.code, 'kind', p.kind, 'name', p.name,
                       'valid_from', cchc_ymd(p.valid_from), 'valid_to', cchc_ymd(p.valid_to))),
                   'successor', p.successor,
                   'obligations', coalesce(ob.list, '[]'::jsonb),
                   'inspections', coalesce((
                       SELECT jsonb_agg(cchc_inspection_json(i) ORDER BY i.inspected_on, i.code)
                       FROM inspections i
                       WHERE i.unit_code = p.code
                         AND EXISTS (SELECT 1 FROM jsonb_array_elements(ob.list) o
                                     WHERE o->>'subject' = i.code)), '[]'::jsonb),
                   'tasks', coalesce((
                       SELECT jsonb_agg(cchc_task_json(t, p.code, p.kind) ORDER BY t.code)
                       FROM plan_tasks t
                       WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(ob.list) o
                                     WHERE o->>'subject' = t.code)), '[]'::jsonb),
                   'revisions', coalesce((
                       SELECT jsonb_agg(jsonb_build_object(
                                  'type', r.report_type, 'period', r.period,
                                  'subject', r.subject, 'revision', r.revision,
                                  'locked', EXISTS (SELECT 1 FROM periods q
                                                    WHERE q.type_code = r.report_type
                                                      AND q.period = r.period
                                                      AND q.locked_at IS NOT NULL),
                                  'first_received', cchc_ymd(cchc_vn_date(
                                      coalesce(r.first_received_at, r.received_at))))
                              || coalesce((SELECT jsonb_build_object('reopened_until',
                                                                     cchc_ymd(max(o.until)))
                                           FROM period_reopenings o
                                           WHERE o.type_code = r.report_type
                                             AND o.period = r.period
                                             AND (o.unit_code IS NULL OR o.unit_code = p.code)
                                             AND o.ended_at IS NULL
                                           HAVING count(*) > 0), '{}'::jsonb)
                              ORDER BY r.report_type, r.period, r.subject)
                       FROM jsonb_array_elements(ob.list) o
                       CROSS JOIN LATERAL (
                           SELECT x.* FROM reports x
                           WHERE x.report_type = o->>'type' AND x.unit_code = p.code
                             AND x.period = o->>'period' AND x.subject = o->>'subject'
                             AND x.status = 'accepted'
                           ORDER BY x.revision DESC, x.id DESC LIMIT 1) r), '[]'::jsonb))
               ORDER BY p.code)
        INTO preds
        FROM (SELECT DISTINCT ON (pr.code) pr.code FROM pr ORDER BY pr.code, pr.depth) d
        JOIN units p ON p.code = d.code AND p.valid_to IS NOT NULL
        CROSS JOIN LATERAL (
            SELECT jsonb_agg(jsonb_build_object(
                       'type', e.type_code, 'period', e.period, 'subject', e.subject,
                       'due', cchc_ymd(e.due), 'grace_days', e.grace_days)
                   ORDER BY e.due, e.type_code, e.period, e.subject) AS list
            FROM expectations e
            WHERE e.unit_code = p.code AND e.status NOT IN ('exempt', 'cancelled')
              AND (e.met_at IS NULL OR cchc_vn_date(e.met_at) > p.valid_to)) ob;
    END IF;
    RETURN jsonb_build_object(
        'unit', CASE WHEN known THEN jsonb_strip_nulls(jsonb_build_object(
                    'code', u.code, 'kind', u.kind, 'name', u.name,
                    'valid_from', cchc_ymd(u.valid_from), 'valid_to', cchc_ymd(u.valid_to),
                    'successor', u.successor))
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
            WHERE known AND (t.lead && ARRAY[p_unit, '@' || u.kind]
                             OR t.support && ARRAY[p_unit, '@' || u.kind])), '[]'::jsonb),
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
                   || coalesce((SELECT jsonb_build_object('reopened_until', cchc_ymd(max(o.until)))
                                FROM period_reopenings o
                                WHERE o.type_code = r.report_type AND o.period = r.period
                                  AND (o.unit_code IS NULL OR o.unit_code = p_unit)
                                  AND o.ended_at IS NULL
                                HAVING count(*) > 0), '{}'::jsonb)
                   ORDER BY r.report_type, r.period, r.subject)
            FROM (SELECT DISTINCT ON (x.report_type, x.period, x.subject) x.*
                  FROM reports x
                  WHERE x.unit_code = p_unit AND x.status = 'accepted'
                  ORDER BY x.report_type, x.period, x.subject, x.revision DESC, x.id DESC) r),
            '[]'::jsonb),
        'settings', jsonb_build_object('apology_slip', 'error'))
        || CASE WHEN preds IS NOT NULL THEN jsonb_build_object('predecessors', preds)
                ELSE '{}'::jsonb END;
END $$;
