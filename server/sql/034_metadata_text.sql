-- 034_metadata_text: the document an agent syncs, as the server reads it,
-- built as text (json) rather than jsonb.
--
-- cchc_unit_metadata (025) builds the document as jsonb, and the server
-- reads it as text: every task, type and revision went into a jsonb
-- object, each array of them was rebuilt once more by jsonb_agg and the
-- whole document once more by the outer object, then all of it printed.
-- A unit that leads 5,000 tasks (cchc-bench's small ingest: a document of
-- 1.8 MB): the tasks alone 63 ms as jsonb, 27 ms as json; the document
-- 82-135 ms, and 179 ms a unit on the store lanes when eight were read at
-- once (pg_stat_statements), the first batches waiting on them.
--
-- cchc_unit_metadata_doc is the same document, part for part and value for
-- value (test_reopen and test_merger compare it, as jsonb, with 025's
-- function, kept in tests/fixtures/metadata_025.sql, for every unit of
-- their districts: revisions reopened, inspections, tasks, predecessors),
-- printed as json prints it: keys in the order written here, " : " between
-- a key and its value. So its text, and the version (its hash) the server
-- gives it, differ from 025's: after the upgrade every agent is told once
-- that its document changed, and syncs it again. cchc_unit_metadata, for
-- SQL that reads parts of the document, is now this one as jsonb: one
-- definition of the document.

CREATE FUNCTION cchc_unit_metadata_doc(p_unit text) RETURNS text
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
    -- What the unit's predecessors still owe (025, unchanged: a merged
    -- unit's, a few obligations each).
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
    -- The parts in 025's order; "predecessors" only when there are some.
    RETURN (
    SELECT json_object_agg(d.k, d.v ORDER BY d.o)::text
    FROM (VALUES
        (1, 'unit', CASE WHEN known THEN json_strip_nulls(json_build_object(
                        'code', u.code, 'kind', u.kind, 'name', u.name,
                        'valid_from', cchc_ymd(u.valid_from), 'valid_to', cchc_ymd(u.valid_to),
                        'successor', u.successor))
                    END),
        (2, 'types', coalesce((
            SELECT json_agg(json_build_object(
                       'code', t.code, 'name_vi', t.name_vi, 'content_kind', t.content_kind,
                       'periods', t.periods, 'cutoff_rule', t.cutoff_rule,
                       'due_rule', t.due_rule, 'grace_days', t.grace_days,
                       'expiry_days', t.expiry_days, 'timeliness_basis', t.timeliness_basis,
                       'assigned', known AND EXISTS (
                           SELECT 1 FROM type_assignments a
                           WHERE a.type_code = t.code
                             AND (a.target = p_unit OR a.target = '@' || u.kind
                                  OR (a.target = '@inspected' AND inspected)
                                  OR (a.target = '@task_lead' AND leads))))
                   ORDER BY t.code)
            FROM report_types t), '[]'::json)),
        (3, 'calendar', coalesce((
            SELECT json_agg(json_build_object('date', cchc_ymd(c.day), 'kind', c.kind,
                                              'note', c.note) ORDER BY c.day)
            FROM calendar_days c), '[]'::json)),
        (4, 'inspections', coalesce((
            SELECT json_agg(cchc_inspection_json(i)::json ORDER BY i.inspected_on, i.code)
            FROM inspections i WHERE i.unit_code = p_unit AND i.status <> 'closed'),
            '[]'::json)),
        -- (cchc_task_json's object, written out)
        (5, 'tasks', coalesce((
            SELECT json_agg(json_build_object(
                       'code', t.code, 'title', t.title, 'index', t.index_name,
                       'dimension', t.dimension, 'target', t.target, 'lead', t.lead,
                       'support', t.support, 'due', cchc_ymd(t.due),
                       'assigned', coalesce(p_unit = ANY (t.lead || t.support)
                                            OR '@' || u.kind = ANY (t.lead || t.support), false))
                   ORDER BY t.code)
            FROM plan_tasks t
            WHERE known AND (t.lead && ARRAY[p_unit, '@' || u.kind]
                             OR t.support && ARRAY[p_unit, '@' || u.kind])), '[]'::json)),
        -- ("reopened_until" only when a reopening is in force, as 025)
        (6, 'revisions', coalesce((
            SELECT json_agg(CASE WHEN ro.until IS NULL
                                 THEN json_build_object(
                                          'type', r.report_type, 'period', r.period,
                                          'subject', r.subject, 'revision', r.revision,
                                          'locked', lk.locked, 'first_received', fr.d)
                                 ELSE json_build_object(
                                          'type', r.report_type, 'period', r.period,
                                          'subject', r.subject, 'revision', r.revision,
                                          'locked', lk.locked, 'first_received', fr.d,
                                          'reopened_until', ro.until) END
                   ORDER BY r.report_type, r.period, r.subject)
            FROM (SELECT DISTINCT ON (x.report_type, x.period, x.subject) x.*
                  FROM reports x
                  WHERE x.unit_code = p_unit AND x.status = 'accepted'
                  ORDER BY x.report_type, x.period, x.subject, x.revision DESC, x.id DESC) r
            CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM periods p
                                               WHERE p.type_code = r.report_type
                                                 AND p.period = r.period
                                                 AND p.locked_at IS NOT NULL) AS locked) lk
            CROSS JOIN LATERAL (SELECT cchc_ymd(cchc_vn_date(
                                    coalesce(r.first_received_at, r.received_at))) AS d) fr
            CROSS JOIN LATERAL (SELECT cchc_ymd(max(o.until)) AS until
                                FROM period_reopenings o
                                WHERE o.type_code = r.report_type AND o.period = r.period
                                  AND (o.unit_code IS NULL OR o.unit_code = p_unit)
                                  AND o.ended_at IS NULL) ro),
            '[]'::json)),
        (7, 'settings', json_build_object('apology_slip', 'error')),
        (8, 'predecessors', preds::json)) AS d(o, k, v)
    WHERE d.k <> 'predecessors' OR d.v IS NOT NULL);
END $$;

-- Read-only, as cchc_unit_metadata: the viewer's too (011).
REVOKE EXECUTE ON FUNCTION cchc_unit_metadata_doc(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cchc_unit_metadata_doc(text) TO cchc_viewer;

-- (Its grants stay: a function replaced keeps them.)
CREATE OR REPLACE FUNCTION cchc_unit_metadata(p_unit text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT cchc_unit_metadata_doc(p_unit)::jsonb
$$;
