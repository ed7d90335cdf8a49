-- 018_sched_scale: a scheduler tick whose cost does not grow with the stored
-- reports, nor with plan tasks times units.
--
-- Also (017 is applied in the field and never edited): the batch's context in
-- PL/pgSQL with a generic plan. The store's own changes of this time (its
-- temporary tables emptied by DELETE, the periods upserted only when they
-- differ) are in 020's cchc_store_batch, which replaces 017's.
--
-- cchc_sched_expectations (006) sorted every accepted report each tick to
-- find the ones that meet an expectation made after them, and matched each
-- task's leads against every unit with an OR no index could serve. With
-- twenty million reports and ten thousand units a tick took minutes, holding
-- its row locks meanwhile. Same results, by index.

-- In PL/pgSQL with a generic plan, kept for the session: planning the query
-- for each batch's values (a LANGUAGE sql function is planned at every call;
-- PL/pgSQL plans anew for the first calls after each ANALYZE of a table it
-- reads, which ingest makes frequent) was most of a small batch's context.
CREATE OR REPLACE FUNCTION cchc_batch_context(p jsonb)
RETURNS TABLE (ord integer, id bigint, status text, findings text, payload bytea, extra text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT x.ord, r.id, r.status, r.findings::text, r.payload,
           CASE WHEN r.id IS NULL THEN jsonb_strip_nulls(jsonb_build_object(
               'revisions', CASE WHEN rv.doc IS NULL THEN '[]'::jsonb
                                 ELSE jsonb_build_array(rv.doc) END,
               'previous', pv.doc,
               'inspections', (SELECT jsonb_build_array(cchc_inspection_json(i))
                               FROM inspections i WHERE i.code = x.subject),
               'tasks', (SELECT jsonb_build_array(cchc_task_json(k, x.unit, u.kind))
                         FROM plan_tasks k WHERE k.code = x.subject)))::text END
    FROM jsonb_to_recordset(p) AS x(ord integer, unit text, epoch bigint, msg_id bigint,
                                    type text, kind text, period text, subject text)
    LEFT JOIN reports r ON r.unit_code = x.unit AND r.agent_epoch = x.epoch
                       AND r.msg_id = x.msg_id
    LEFT JOIN units u ON u.code = x.unit
    -- The entry of "revisions" for the latest accepted revision of the
    -- report, as cchc_unit_metadata (014) writes it.
    LEFT JOIN LATERAL (
        SELECT jsonb_build_object(
                   'type', s.report_type, 'period', s.period, 'subject', s.subject,
                   'revision', s.revision,
                   'locked', EXISTS (SELECT 1 FROM periods p
                                     WHERE p.type_code = s.report_type AND p.period = s.period
                                       AND p.locked_at IS NOT NULL),
                   'first_received', to_char(cchc_vn_date(coalesce(s.first_received_at,
                                                                   s.received_at)),
                                             'YYYY-MM-DD'))
               || coalesce((SELECT jsonb_build_object('reopened_until',
                                                      to_char(max(o.until), 'YYYY-MM-DD'))
                            FROM period_reopenings o
                            WHERE o.type_code = s.report_type AND o.period = s.period
                              AND (o.unit_code IS NULL OR o.unit_code = x.unit)
                              AND o.ended_at IS NULL
                            HAVING count(*) > 0), '{}'::jsonb) AS doc
        FROM reports s
        WHERE r.id IS NULL AND s.report_type = x.type AND s.unit_code = x.unit
          AND s.period = x.period AND s.subject = x.subject AND s.status = 'accepted'
        ORDER BY s.revision DESC, s.id DESC
        LIMIT 1) rv ON true
    -- W015: as cchc_report_context (003): the accepted report of the period
    -- whose window ends the day before this one starts, the shortest window.
    LEFT JOIN LATERAL (
        SELECT jsonb_build_object(
                   'type', x.type, 'period', prev.period,
                   'pending', coalesce((SELECT jsonb_object_agg(d.field,
                                                d.pending_in_time + d.pending_overdue
                                                ORDER BY d.field)
                                        FROM dossier_rows d WHERE d.report_id = prev.id),
                                       '{}'::jsonb)) AS doc
        FROM report_types t
        CROSS JOIN LATERAL (
            SELECT r2.id, r2.period
            FROM reports r2 JOIN periods p2 ON p2.type_code = r2.report_type
                                           AND p2.period = r2.period
            WHERE r2.unit_code = x.unit AND r2.report_type = x.type AND r2.status = 'accepted'
              AND r2.period <> x.period
              AND p2.cutoff_end = coalesce((SELECT p3.cutoff_start FROM periods p3
                                            WHERE p3.type_code = x.type
                                              AND p3.period = x.period),
                                           cchc_period_cutoff_start(x.period, t.cutoff_rule)) - 1
            ORDER BY p2.cutoff_start DESC, r2.period, r2.revision DESC, r2.id DESC
            LIMIT 1) prev
        WHERE r.id IS NULL AND t.code = x.type AND t.content_kind = 'periodic'
          AND x.period <> '') pv ON true
    ORDER BY x.ord;
END $$;

CREATE OR REPLACE FUNCTION cchc_sched_expectations(p_start date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    total integer := 0;
BEGIN
    -- Periodic types: every assigned unit open on the cut-off's last day.
    INSERT INTO expectations (type_code, unit_code, period, subject, due, grace_days)
    SELECT t.code, u.code, p.period, '', p.due, t.grace_days
    FROM report_types t
    JOIN periods p ON p.type_code = t.code
    JOIN units u ON EXISTS (SELECT 1 FROM type_assignments a
                            WHERE a.type_code = t.code
                              AND (a.target = u.code OR a.target = '@' || u.kind))
    WHERE t.content_kind = 'periodic' AND p.due IS NOT NULL AND p.due >= p_start
      AND u.valid_from <= p.cutoff_end AND (u.valid_to IS NULL OR u.valid_to >= p.cutoff_end)
      AND NOT EXISTS (SELECT 1 FROM expectations e
                      WHERE e.type_code = t.code AND e.unit_code = u.code
                        AND e.period = p.period AND e.subject = '')
    ORDER BY p.due, t.code, p.period, u.code
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    -- Remediation: one per inspection, for its unit.
    INSERT INTO expectations (type_code, unit_code, period, subject, due, grace_days)
    SELECT t.code, i.unit_code, '', i.code, i.remediation_due, t.grace_days
    FROM inspections i CROSS JOIN report_types t
    WHERE t.content_kind = 'remediation' AND i.remediation_due >= p_start
      AND NOT EXISTS (SELECT 1 FROM expectations e
                      WHERE e.type_code = t.code AND e.unit_code = i.unit_code
                        AND e.period = '' AND e.subject = i.code)
    ORDER BY i.remediation_due, t.code, i.code
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    -- Task progress: one per task and lead unit (a unit, or every open unit
    -- of a lead kind on the task's due date). A lead names a unit (joined
    -- by its code) or a kind (by the kind): two index-friendly joins, not
    -- one with an OR that compared every lead with every unit.
    INSERT INTO expectations (type_code, unit_code, period, subject, due, grace_days)
    SELECT DISTINCT ON (c.due, c.type, c.task, c.unit) c.type, c.unit, '', c.task, c.due, c.grace
    FROM (SELECT t.code AS type, u.code AS unit, k.code AS task, k.due, t.grace_days AS grace,
                 u.valid_from, u.valid_to
          FROM plan_tasks k CROSS JOIN report_types t
          CROSS JOIN LATERAL unnest(k.lead) l(target)
          JOIN units u ON u.code = l.target
          WHERE t.content_kind = 'task_progress' AND k.due >= p_start
          UNION ALL
          SELECT t.code, u.code, k.code, k.due, t.grace_days, u.valid_from, u.valid_to
          FROM plan_tasks k CROSS JOIN report_types t
          CROSS JOIN LATERAL unnest(k.lead) l(target)
          JOIN units u ON '@' || u.kind = l.target
          WHERE t.content_kind = 'task_progress' AND k.due >= p_start
            AND l.target LIKE '@%') c
    WHERE c.valid_from <= c.due AND (c.valid_to IS NULL OR c.valid_to >= c.due)
      AND NOT EXISTS (SELECT 1 FROM expectations e
                      WHERE e.type_code = c.type AND e.unit_code = c.unit
                        AND e.period = '' AND e.subject = c.task)
    ORDER BY c.due, c.type, c.task, c.unit
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    -- A corrected calendar or due date moves what is still open.
    UPDATE expectations e SET due = p.due, updated_at = now()
    FROM periods p
    WHERE e.subject = '' AND p.type_code = e.type_code AND p.period = e.period
      AND p.due IS NOT NULL AND e.due <> p.due AND e.status IN ('expected', 'overdue');
    UPDATE expectations e SET due = i.remediation_due, updated_at = now()
    FROM inspections i, report_types t
    WHERE t.code = e.type_code AND t.content_kind = 'remediation' AND i.code = e.subject
      AND e.due <> i.remediation_due AND e.status IN ('expected', 'overdue');
    UPDATE expectations e SET due = k.due, updated_at = now()
    FROM plan_tasks k, report_types t
    WHERE t.code = e.type_code AND t.content_kind = 'task_progress' AND k.code = e.subject
      AND e.due <> k.due AND e.status IN ('expected', 'overdue');

    -- A report accepted before its expectation existed meets it now: looked
    -- for per open expectation, through the index of accepted reports (it
    -- sorted every accepted report, every tick).
    UPDATE expectations e
    SET status = CASE WHEN cchc_vn_date(m.first_at) <= e.due + e.grace_days THEN 'on_time'
                      ELSE 'late' END,
        report_id = m.id, met_at = m.first_at, basis = 'received', updated_at = now()
    FROM (SELECT o.id AS eid, r.id, r.first_at
          FROM expectations o
          CROSS JOIN LATERAL (
              SELECT x.id, coalesce(x.first_received_at, x.received_at) AS first_at
              FROM reports x
              WHERE x.report_type = o.type_code AND x.unit_code = o.unit_code
                AND x.period = o.period AND x.subject = o.subject AND x.status = 'accepted'
              ORDER BY x.revision DESC, x.id DESC
              LIMIT 1) r
          WHERE o.status IN ('expected', 'overdue')) m
    WHERE e.id = m.eid;
    -- expected | overdue -> cancelled: a periodic obligation whose unit is no
    -- longer assigned the type, or not open on the period's cut-off end (a
    -- unit closed, a type unassigned). Assigned again: back to expected.
    UPDATE expectations e SET status = 'cancelled', updated_at = now()
    FROM report_types t, periods p, units u
    WHERE t.code = e.type_code AND t.content_kind = 'periodic' AND e.subject = ''
      AND p.type_code = e.type_code AND p.period = e.period AND u.code = e.unit_code
      AND e.status IN ('expected', 'overdue')
      AND (NOT EXISTS (SELECT 1 FROM type_assignments a
                       WHERE a.type_code = t.code
                         AND (a.target = u.code OR a.target = '@' || u.kind))
           OR u.valid_from > p.cutoff_end
           OR (u.valid_to IS NOT NULL AND u.valid_to < p.cutoff_end));
    UPDATE expectations e SET status = 'expected', updated_at = now()
    FROM report_types t, periods p, units u
    WHERE t.code = e.type_code AND t.content_kind = 'periodic' AND e.subject = ''
      AND p.type_code = e.type_code AND p.period = e.period AND u.code = e.unit_code
      AND e.status = 'cancelled'
      AND EXISTS (SELECT 1 FROM type_assignments a
                  WHERE a.type_code = t.code
                    AND (a.target = u.code OR a.target = '@' || u.kind))
      AND u.valid_from <= p.cutoff_end
      AND (u.valid_to IS NULL OR u.valid_to >= p.cutoff_end);
    RETURN total;
END $$;
