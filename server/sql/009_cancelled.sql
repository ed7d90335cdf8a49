-- 009_cancelled: an expectation whose unit is no longer assigned its type, or
-- no longer open on the period's cut-off end, is cancelled (DOMAIN.md section
-- 3); assigned again, it is expected again. The rules of a tick only look at
-- expected and overdue expectations, so a cancelled one is never reminded.

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
    -- of a lead kind on the task's due date).
    INSERT INTO expectations (type_code, unit_code, period, subject, due, grace_days)
    SELECT DISTINCT ON (k.due, t.code, k.code, u.code) t.code, u.code, '', k.code, k.due,
           t.grace_days
    FROM plan_tasks k CROSS JOIN report_types t
    CROSS JOIN LATERAL unnest(k.lead) l(target)
    JOIN units u ON (l.target = u.code OR l.target = '@' || u.kind)
    WHERE t.content_kind = 'task_progress' AND k.due >= p_start
      AND u.valid_from <= k.due AND (u.valid_to IS NULL OR u.valid_to >= k.due)
      AND NOT EXISTS (SELECT 1 FROM expectations e
                      WHERE e.type_code = t.code AND e.unit_code = u.code
                        AND e.period = '' AND e.subject = k.code)
    ORDER BY k.due, t.code, k.code, u.code
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

    -- A report accepted before its expectation existed meets it now.
    UPDATE expectations e
    SET status = CASE WHEN cchc_vn_date(r.first_at) <= e.due + e.grace_days THEN 'on_time'
                      ELSE 'late' END,
        report_id = r.id, met_at = r.first_at, basis = 'received', updated_at = now()
    FROM (SELECT DISTINCT ON (x.report_type, x.unit_code, x.period, x.subject)
                 x.id, x.report_type, x.unit_code, x.period, x.subject,
                 coalesce(x.first_received_at, x.received_at) AS first_at
          FROM reports x WHERE x.status = 'accepted'
          ORDER BY x.report_type, x.unit_code, x.period, x.subject, x.revision DESC,
                   x.id DESC) r
    WHERE e.status IN ('expected', 'overdue') AND r.report_type = e.type_code
      AND r.unit_code = e.unit_code AND r.period = e.period AND r.subject = e.subject;
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
