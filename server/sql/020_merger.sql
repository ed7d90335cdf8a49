-- 020_merger: closing a unit (DOMAIN.md section 1, "Closing a unit"; the
-- 1 July 2025 merger of deploy/data/units.csv).
--
-- From the day after its valid_to a closed unit gets no notification and no
-- new expectation. Its obligations still open at closure pass to its
-- successor (units.successor, followed while the successor is closed too):
--
--   who                what it gets from here
--   -----------------  ---------------------------------------------------------------
--   the scheduler      cchc_sched_expectations(start, today): no expectation for a unit
--                      closed on today; cchc_sched_rules: the notices about a closed
--                      unit's obligations go to its heir (cchc_unit_heir) and name
--                      the predecessor (text and facts), digests list the heirs only
--   the metadata       cchc_unit_metadata: "predecessors", the closed units a unit
--                      answers for, with their obligations open at closure (and the
--                      inspections, tasks and revisions validation needs for them), so
--                      the heir's agent validates them offline and lists them
--   the store          reports.sent_by: the unit whose key sent a report of another
--                      (its predecessor's); NULL when the unit itself sent it. Its
--                      receipts go to the sender and name the unit
--   operators          cchc_exempt_closed(unit, reason): every open obligation of a
--                      closed unit exempt at once, each change audited
--   the views          cchc_unit_rollup (each unit and the last unit of its successor
--                      chain) and, when the session sets cchc.rollup = on (the CLI's
--                      --rollup), the figures' views show a predecessor's rows under
--                      its last successor, with source_unit naming the unit itself
--   keys               the server refuses a closed unit's keys [units]
--                      closed_key_grace_days after its valid_to (srv_zap.c): a
--                      refusal of kind unit_closed
--
-- An obligation "open at closure" is an expectation of the closed unit that is
-- neither exempt nor cancelled and was not met by the end of its valid_to
-- (met_at NULL, or later: met since by the successor). Whether a unit is closed
-- is judged on the caller's day (the server's injectable clock, the CLI's
-- cchc.now), never on the database's current_date.

-- ---- who sent a report ------------------------------------------------------------------------
ALTER TABLE reports ADD COLUMN sent_by text REFERENCES units (code);
-- Predecessors of a unit, found from the successor side (metadata, rollup).
CREATE INDEX units_successor ON units (successor) WHERE successor IS NOT NULL;

-- ---- a closed unit's key, refused ------------------------------------------------------------------
ALTER TABLE refusals DROP CONSTRAINT refusals_kind_check;
ALTER TABLE refusals ADD CONSTRAINT refusals_kind_check
    CHECK (kind IN ('unit_mismatch', 'key_revoked', 'key_expired', 'topic_outside', 'not_allowed',
                    'unit_closed'));
CREATE OR REPLACE VIEW cchc_refusals AS
SELECT r.*,
       CASE r.kind
           WHEN 'unit_mismatch' THEN 'báo cáo cho đơn vị khác'
           WHEN 'key_revoked' THEN 'khoá đã thu hồi'
           WHEN 'key_expired' THEN 'khoá đã hết hạn'
           WHEN 'topic_outside' THEN 'chủ đề ngoài phạm vi được cấp'
           WHEN 'not_allowed' THEN 'loại tin không được phép'
           WHEN 'unit_closed' THEN 'đơn vị đã giải thể, sáp nhập: hết thời gian dùng khoá'
       END AS kind_vi
FROM refusals r;

-- ---- successors ---------------------------------------------------------------------------------------

-- The unit that answers for p_unit on p_day: p_unit itself while it is not
-- closed (valid_to NULL or on or after p_day), else the first of its
-- successors open on p_day. NULL when the chain ends first (a unit closed
-- without successor, a successor not open yet, a loop).
CREATE FUNCTION cchc_unit_heir(p_unit text, p_day date) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE c (code, depth, path) AS (
        SELECT u.code, 0, ARRAY[u.code] FROM units u WHERE u.code = p_unit
        UNION ALL
        SELECT u.successor, c.depth + 1, c.path || u.successor
        FROM c JOIN units u ON u.code = c.code
        WHERE u.valid_to < p_day AND u.successor IS NOT NULL
          AND NOT u.successor = ANY (c.path) AND c.depth < 32)
    SELECT x.code FROM c JOIN units x ON x.code = c.code
    WHERE x.valid_to IS NULL OR x.valid_to >= p_day
    ORDER BY c.depth LIMIT 1
$$;

-- The last unit of p_code's successor chain (p_code itself without one): the
-- unit a rolled-up view shows p_code's rows under.
CREATE FUNCTION cchc_rollup_unit(p_code text) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE c (code, depth, path) AS (
        SELECT p_code, 0, ARRAY[p_code]
        UNION ALL
        SELECT u.successor, c.depth + 1, c.path || u.successor
        FROM c JOIN units u ON u.code = c.code
        WHERE u.successor IS NOT NULL AND NOT u.successor = ANY (c.path) AND c.depth < 32)
    SELECT c.code FROM c ORDER BY c.depth DESC LIMIT 1
$$;

-- True when the session asked for rolled-up figures (SET cchc.rollup = on;
-- the CLI's --rollup).
CREATE FUNCTION cchc_rollup_on() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('cchc.rollup', true), '') IN ('on', 'true', '1')
$$;

-- The unit a view shows a row of p_code under: its last successor when the
-- session rolls up, else itself.
CREATE FUNCTION cchc_unit_shown(p_code text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN cchc_rollup_on() THEN cchc_rollup_unit(p_code) ELSE p_code END
$$;

-- Every unit with the last unit of its successor chain, for psql and BI
-- users: join on unit_code and group by rollup_code.
CREATE VIEW cchc_unit_rollup AS
SELECT u.code AS unit_code, r.code AS rollup_code, r.name AS rollup_name, r.kind AS rollup_kind,
       r.code <> u.code AS rolled
FROM units u
JOIN units r ON r.code = cchc_rollup_unit(u.code);

-- ---- the unit's metadata, with its predecessors ------------------------------------------------------
-- As in 014, and for a unit that answers for closed units (their successor
-- chain reaches it) one more member, "predecessors":
--
--   [{"unit": {"code", "kind", "name", "valid_from", "valid_to"}, "successor": "...",
--     "obligations": [{"type", "period", "subject", "due", "grace_days"}],
--     "inspections": [...], "tasks": [...], "revisions": [...]}]
--
-- obligations: those open at closure (see the banner); inspections and tasks:
-- those they name (validation's E040, E041, E060 as for the predecessor);
-- revisions: the predecessor's latest accepted ones of those obligations (E006,
-- E007, and what `cchc-agent deadlines` shows as received). A unit with no
-- predecessor has no such member. "unit" also names the unit's "successor",
-- when it has one: the server refreshes the successor's document when a report
-- of the unit is stored (what it owes changes). Other units' documents, and so
-- their versions, are as before.

CREATE OR REPLACE FUNCTION cchc_unit_metadata(p_unit text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
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
                               WHERE p_unit = ANY (t.lead) OR '@' || u.kind = ANY (t.lead));
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

-- ---- NOTIFY cchc_meta reaches the successors ---------------------------------------------------------
-- As 017, and a change about a unit is announced for every unit of its
-- successor chain too, whose documents list it among their predecessors (its
-- inspections, tasks, validity). A unit whose successor changed announces the
-- old chain as well.
CREATE OR REPLACE FUNCTION cchc_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    b jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    a jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    r jsonb := coalesce(a, b);
    unit text;
    heir text;
BEGIN
    IF TG_OP = 'UPDATE' AND (b - 'last_seen') = (a - 'last_seen') THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit_log (table_name, op, before, after) VALUES (TG_TABLE_NAME, TG_OP, b, a);
    unit := CASE TG_TABLE_NAME
        WHEN 'units' THEN r->>'code'
        WHEN 'inspections' THEN r->>'unit_code'
        WHEN 'inspection_findings' THEN (SELECT i.unit_code FROM inspections i
                                         WHERE i.id = (r->>'inspection_id')::bigint)
        WHEN 'agent_keys' THEN r->>'unit_code'
        WHEN 'silences' THEN r->>'unit_code'
        WHEN 'period_reopenings' THEN r->>'unit_code'
        END;
    -- A unit's row moving between units (an inspection re-assigned) concerns both.
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME IN ('inspections', 'agent_keys')
       AND b->>'unit_code' IS DISTINCT FROM a->>'unit_code' THEN
        PERFORM pg_notify('cchc_meta', TG_TABLE_NAME || ':' || (b->>'unit_code'));
    END IF;
    PERFORM pg_notify('cchc_meta', TG_TABLE_NAME || coalesce(':' || unit, ''));
    IF unit IS NOT NULL AND TG_TABLE_NAME NOT IN ('agent_keys', 'silences') THEN
        FOR heir IN
            WITH RECURSIVE c (code, depth, path) AS (
                SELECT x.successor, 1, ARRAY[x.code, x.successor] FROM units x
                WHERE x.code = unit AND x.successor IS NOT NULL
                UNION
                SELECT x.successor, c.depth + 1, c.path || x.successor
                FROM c JOIN units x ON x.code = c.code
                WHERE x.successor IS NOT NULL AND NOT x.successor = ANY (c.path) AND c.depth < 32)
            SELECT DISTINCT c.code FROM c
            UNION SELECT b->>'successor' WHERE TG_TABLE_NAME = 'units' AND b->>'successor' IS NOT NULL
        LOOP
            IF heir IS DISTINCT FROM unit THEN
                PERFORM pg_notify('cchc_meta', TG_TABLE_NAME || ':' || heir);
            END IF;
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

-- ---- expectations -----------------------------------------------------------------------------------------
-- As 018, and no expectation is made for a unit closed on p_today (whatever
-- the period: it gets no new expectation from the day after its valid_to).
-- p_today NULL: no such check (the one-argument form, kept for callers of 018).

CREATE FUNCTION cchc_sched_expectations(p_start date, p_today date) RETURNS integer
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
      AND (p_today IS NULL OR u.valid_to IS NULL OR u.valid_to >= p_today)
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
    JOIN units u ON u.code = i.unit_code
    WHERE t.content_kind = 'remediation' AND i.remediation_due >= p_start
      AND (p_today IS NULL OR u.valid_to IS NULL OR u.valid_to >= p_today)
      AND NOT EXISTS (SELECT 1 FROM expectations e
                      WHERE e.type_code = t.code AND e.unit_code = i.unit_code
                        AND e.period = '' AND e.subject = i.code)
    ORDER BY i.remediation_due, t.code, i.code
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    -- Task progress: one per task and lead unit (a unit, or every open unit
    -- of a lead kind on the task's due date), by two index-friendly joins.
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
      AND (p_today IS NULL OR c.valid_to IS NULL OR c.valid_to >= p_today)
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

    -- A report accepted before its expectation existed meets it now, looked
    -- for per open expectation through the index of accepted reports.
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
    -- longer assigned the type, or not open on the period's cut-off end.
    -- Assigned again: back to expected. (A unit closing after the cut-off
    -- end keeps the obligation: it passes to its successor.)
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

CREATE OR REPLACE FUNCTION cchc_sched_expectations(p_start date) RETURNS integer
LANGUAGE sql AS $$
    SELECT cchc_sched_expectations(p_start, NULL::date)
$$;

-- ---- the rules of one tick ----------------------------------------------------------------------------
-- As 006, with closed units (valid_to before p_today) in mind:
--
--   notice                     a unit open on p_today     a closed unit's open obligation
--   -------------------------  -------------------------  -----------------------------------------
--   deadline.*, report.overdue the unit                   its heir (cchc_unit_heir on p_today), the
--   (remediation.*, task.*)                               text and facts naming the predecessor
--                                                         (facts.predecessor, facts.successor); none
--                                                         when it has no heir open
--   digest.overdue,            listed by name             listed under the heir ("Xã Vân Sơn (nộp
--   report.escalated                                      thay Xã Hữu Sản)"); facts.units: the heirs,
--                                                         facts.for: heir -> predecessors
--   agent.silent               as before (open units only)
--
-- Dedup keys are the expectation's, as before: a notice about an obligation
-- is sent once whoever receives it. A silence of the heir or of the
-- predecessor skips it.
CREATE OR REPLACE FUNCTION cchc_sched_rules(p_now timestamptz, p_today date, p_d1 date, p_d3 date,
                                            p_fire_approaching boolean, p_fire_today boolean,
                                            p_fire_overdue boolean, p_repeat_wd integer,
                                            p_escalate_wd integer, p_silent_hours integer)
RETURNS TABLE (rule text, inserted integer)
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    v_silent_before timestamptz := p_now - make_interval(hours => p_silent_hours);
BEGIN
    -- The heir on p_today of every unit closed by then (one short recursion
    -- over the closed units, whatever the expectations).
    CREATE TEMP TABLE IF NOT EXISTS cchc_sched_heir (
        unit_code text, heir text, heir_name text) ON COMMIT DROP;
    TRUNCATE cchc_sched_heir;
    INSERT INTO cchc_sched_heir
    WITH RECURSIVE c (root, code, depth, path) AS (
        SELECT u.code, u.successor, 1, ARRAY[u.code, u.successor] FROM units u
        WHERE u.valid_to < p_today AND u.successor IS NOT NULL
        UNION ALL
        SELECT c.root, u.successor, c.depth + 1, c.path || u.successor
        FROM c JOIN units u ON u.code = c.code
        WHERE u.valid_to < p_today AND u.successor IS NOT NULL
          AND NOT u.successor = ANY (c.path) AND c.depth < 32)
    SELECT DISTINCT ON (c.root) c.root, x.code, x.name
    FROM c JOIN units x ON x.code = c.code
    WHERE x.valid_to IS NULL OR x.valid_to >= p_today
    ORDER BY c.root, c.depth;

    -- Expectations not met as of p_now, with what the texts need; rcpt: who
    -- is told (the unit, or its heir), pre_*: what a notice to the heir adds.
    CREATE TEMP TABLE IF NOT EXISTS cchc_sched_open (
        id bigint, type_code text, type_name text, content_kind text, unit_code text,
        unit_name text, period text, subject text, what text, due date, grace_days integer,
        status text, k integer, silent boolean, noticed boolean, rcpt text, rcpt_name text,
        pre_vi text, pre_en text, pre_facts jsonb) ON COMMIT DROP;
    TRUNCATE cchc_sched_open;
    CREATE TEMP TABLE IF NOT EXISTS cchc_sched_staged (
        ord bigserial, kind text, unit_code text, about text, dedup_key text,
        text_vi text, text_en text, facts jsonb) ON COMMIT DROP;
    TRUNCATE cchc_sched_staged;
    INSERT INTO cchc_sched_open
    SELECT o.id, o.type_code, o.type_name, o.content_kind, o.unit_code, o.unit_name, o.period,
           o.subject, o.what, o.due, o.grace_days, o.status, o.k,
           EXISTS (SELECT 1 FROM unit_contacts c
                   WHERE c.unit_code = o.rcpt AND c.last_seen < v_silent_before),
           o.noticed, o.rcpt, o.rcpt_name,
           CASE WHEN o.rcpt <> o.unit_code
                THEN format(' Đơn vị cũ %s (%s) đã sáp nhập từ ngày %s; %s (%s) nộp thay báo cáo '
                            'này (ghi "unit": "%s").', o.unit_name, o.unit_code,
                            cchc_dmy(o.valid_to + 1), o.rcpt_name, o.rcpt, o.unit_code)
                ELSE '' END,
           CASE WHEN o.rcpt <> o.unit_code
                THEN format(' %s closed on %s; %s submits this report in its place ("unit": "%s").',
                            o.unit_code, cchc_ymd(o.valid_to), o.rcpt, o.unit_code)
                ELSE '' END,
           CASE WHEN o.rcpt <> o.unit_code
                THEN jsonb_build_object('predecessor', o.unit_code, 'successor', o.rcpt)
                ELSE '{}'::jsonb END
    FROM (SELECT e.id, e.type_code, t.name_vi AS type_name, t.content_kind, e.unit_code,
                 u.name AS unit_name, e.period, e.subject,
                 cchc_sched_what(e.period, e.subject) AS what, e.due, e.grace_days,
                 CASE WHEN e.due + e.grace_days < p_today THEN 'overdue' ELSE 'expected' END
                     AS status,
                 cchc_wd_count(e.due + e.grace_days, p_today) AS k,
                 -- Overdue and told so at least once (any day): without it, the
                 -- first notice is due today whatever k is (a catch-up).
                 e.due + e.grace_days < p_today
                 AND cchc_notice_sent(cchc_sched_kind(t.content_kind, 'overdue') || ':' || e.id
                                      || ':') AS noticed,
                 CASE WHEN u.valid_to < p_today THEN h.heir ELSE e.unit_code END AS rcpt,
                 CASE WHEN u.valid_to < p_today THEN h.heir_name ELSE u.name END AS rcpt_name,
                 u.valid_to
          FROM expectations e
          JOIN report_types t ON t.code = e.type_code
          JOIN units u ON u.code = e.unit_code
          LEFT JOIN cchc_sched_heir h ON h.unit_code = e.unit_code
          WHERE e.status NOT IN ('exempt', 'cancelled')
            AND (e.met_at IS NULL OR e.met_at > p_now)
            AND e.due <= p_d3) o
    WHERE o.rcpt IS NOT NULL;

    -- deadline.approaching (remediation.due, task.due): 3 and 1 working days before.
    n := 0;
    IF p_fire_approaching THEN
        INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
        SELECT c.kind, o.rcpt, o.unit_code, c.key,
               format('Còn %s ngày làm việc đến hạn nộp %s (%s) %s: hạn %s. Đơn vị: %s.',
                      c.wd, o.type_name, o.type_code, o.what, cchc_dmy(o.due), o.unit_name)
               || o.pre_vi,
               format('%s working day(s) left to submit %s %s: due %s. Unit: %s.',
                      c.wd, o.type_code, o.what, cchc_ymd(o.due), o.unit_code) || o.pre_en,
               jsonb_build_object('type', o.type_code, 'period', o.period, 'subject', o.subject,
                                  'due', cchc_ymd(o.due), 'status', o.status,
                                  'unit', o.unit_code, 'working_days_left', c.wd) || o.pre_facts
        FROM cchc_sched_open o
        CROSS JOIN LATERAL (SELECT CASE WHEN o.due = p_d3 THEN 3 ELSE 1 END AS wd) w
        CROSS JOIN LATERAL (SELECT cchc_sched_kind(o.content_kind, 'approaching') AS kind,
                                   cchc_sched_kind(o.content_kind, 'approaching') || ':' || o.id
                                   || ':' || w.wd AS key, w.wd) c
        WHERE (o.due = p_d3 OR o.due = p_d1) AND o.due > p_today
          AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = c.key)
          AND NOT cchc_sched_silenced(o.rcpt, c.kind, p_today)
          AND (o.rcpt = o.unit_code OR NOT cchc_sched_silenced(o.unit_code, c.kind, p_today))
        ORDER BY o.id, c.wd;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    rule := 'approaching'; inserted := n; RETURN NEXT;

    -- deadline.today: the due date.
    n := 0;
    IF p_fire_today THEN
        INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
        SELECT c.kind, o.rcpt, o.unit_code, c.key,
               format('Hôm nay (%s) là hạn nộp %s (%s) %s. Đơn vị: %s.',
                      cchc_dmy(o.due), o.type_name, o.type_code, o.what, o.unit_name) || o.pre_vi,
               format('Today (%s) is the deadline for %s %s. Unit: %s.',
                      cchc_ymd(o.due), o.type_code, o.what, o.unit_code) || o.pre_en,
               jsonb_build_object('type', o.type_code, 'period', o.period, 'subject', o.subject,
                                  'due', cchc_ymd(o.due), 'status', o.status,
                                  'unit', o.unit_code) || o.pre_facts
        FROM cchc_sched_open o
        CROSS JOIN LATERAL (SELECT cchc_sched_kind(o.content_kind, 'today') AS kind,
                                   CASE WHEN o.content_kind = 'periodic'
                                        THEN 'deadline.today:' || o.id
                                        ELSE cchc_sched_kind(o.content_kind, 'today') || ':'
                                             || o.id || ':0' END AS key) c
        WHERE o.due = p_today
          AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = c.key)
          AND NOT cchc_sched_silenced(o.rcpt, c.kind, p_today)
          AND (o.rcpt = o.unit_code OR NOT cchc_sched_silenced(o.unit_code, c.kind, p_today))
        ORDER BY o.id;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    rule := 'today'; inserted := n; RETURN NEXT;

    -- report.overdue (remediation.overdue, task.overdue): the first working
    -- day after due + grace, then every p_repeat_wd working days; a first
    -- notice whose day had no tick goes out at the next tick that fires
    -- overdue rules, within p_repeat_wd working days (006).
    n := 0;
    IF p_fire_overdue THEN
        INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
        SELECT c.kind, o.rcpt, o.unit_code, c.key,
               format('Quá hạn nộp %s (%s) %s: hạn %s, đã quá %s ngày làm việc. Đơn vị: %s.',
                      o.type_name, o.type_code, o.what, cchc_dmy(o.due), o.k, o.unit_name)
               || o.pre_vi,
               format('%s %s is overdue: due %s, %s working day(s) late. Unit: %s.',
                      o.type_code, o.what, cchc_ymd(o.due), o.k, o.unit_code) || o.pre_en,
               jsonb_build_object('type', o.type_code, 'period', o.period, 'subject', o.subject,
                                  'due', cchc_ymd(o.due), 'status', 'overdue',
                                  'unit', o.unit_code, 'working_days_overdue', o.k)
               || CASE WHEN o.silent THEN '{"agent_silent": true}'::jsonb
                       ELSE '{}'::jsonb END || o.pre_facts
        FROM cchc_sched_open o
        CROSS JOIN LATERAL (SELECT cchc_sched_kind(o.content_kind, 'overdue') AS kind,
                                   cchc_sched_kind(o.content_kind, 'overdue') || ':' || o.id
                                   || ':' || cchc_ymd(p_today) AS key) c
        WHERE o.k >= 1 AND ((o.k - 1) % p_repeat_wd = 0 OR (o.k <= p_repeat_wd AND NOT o.noticed))
          AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = c.key)
          AND NOT cchc_sched_silenced(o.rcpt, c.kind, p_today)
          AND (o.rcpt = o.unit_code OR NOT cchc_sched_silenced(o.unit_code, c.kind, p_today))
        ORDER BY o.id;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    rule := 'overdue'; inserted := n; RETURN NEXT;

    -- digest.overdue to Home Affairs: per type and period (or subject), on
    -- the days report.overdue fires for it, every unit still missing, a
    -- closed unit's under its heir; total: the units (heirs) expected.
    n := 0;
    IF p_fire_overdue THEN
        INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
        SELECT 'digest.overdue', '@home_affairs', NULL, g.key,
               format('%s/%s đơn vị chưa báo cáo %s (%s) %s, hạn %s: %s.', g.missing, g.total,
                      g.type_name, g.type_code, g.what, cchc_dmy(g.due), g.names),
               format('%s/%s units have not reported %s %s, due %s: %s.', g.missing, g.total,
                      g.type_code, g.what, cchc_ymd(g.due), g.codes),
               jsonb_build_object('type', g.type_code, 'period', g.period,
                                  'subject', g.subject, 'due', cchc_ymd(g.due),
                                  'status', 'overdue', 'units', g.units,
                                  'missing', g.missing, 'total', g.total)
               || CASE WHEN g.passed IS NOT NULL THEN jsonb_build_object('for', g.passed)
                       ELSE '{}'::jsonb END
        FROM (SELECT r.type_code, min(r.type_name) AS type_name, r.what,
                     min(r.period) AS period, min(r.subject) AS subject, min(r.due) AS due,
                     count(*) AS missing,
                     (SELECT count(DISTINCT CASE WHEN u2.valid_to < p_today THEN h2.heir
                                                 ELSE e.unit_code END)
                      FROM expectations e
                      JOIN units u2 ON u2.code = e.unit_code
                      LEFT JOIN cchc_sched_heir h2 ON h2.unit_code = e.unit_code
                      WHERE e.type_code = r.type_code
                        AND cchc_sched_what(e.period, e.subject) = r.what
                        AND e.status NOT IN ('exempt', 'cancelled')) AS total,
                     string_agg(r.name_vi, ', ' ORDER BY r.rcpt) AS names,
                     string_agg(r.name_en, ', ' ORDER BY r.rcpt) AS codes,
                     jsonb_agg(r.rcpt ORDER BY r.rcpt) AS units,
                     jsonb_object_agg(r.rcpt, r.preds) FILTER (WHERE r.preds IS NOT NULL)
                         AS passed,
                     'digest.overdue:' || r.type_code || ':' || r.what || ':'
                     || cchc_ymd(p_today) AS key,
                     bool_or(r.due_today) AS due_today, bool_or(r.catch_up) AS catch_up
              FROM (SELECT o.type_code, min(o.type_name) AS type_name, o.what,
                           min(o.period) AS period, min(o.subject) AS subject,
                           min(o.due) AS due, o.rcpt,
                           min(o.rcpt_name)
                           || coalesce(' (nộp thay ' || string_agg(
                                              o.unit_name || CASE WHEN o.unit_name = o.rcpt_name
                                                                  THEN ' cũ' ELSE '' END,
                                              ', ' ORDER BY o.unit_code)
                                           FILTER (WHERE o.unit_code <> o.rcpt) || ')', '')
                               AS name_vi,
                           o.rcpt || coalesce(' (for ' || string_agg(o.unit_code, ', '
                                                                     ORDER BY o.unit_code)
                                                  FILTER (WHERE o.unit_code <> o.rcpt) || ')', '')
                               AS name_en,
                           jsonb_agg(o.unit_code ORDER BY o.unit_code)
                               FILTER (WHERE o.unit_code <> o.rcpt) AS preds,
                           bool_or((o.k - 1) % p_repeat_wd = 0) AS due_today,
                           bool_or(o.k <= p_repeat_wd) AS catch_up
                    FROM cchc_sched_open o
                    WHERE o.k >= 1
                    GROUP BY o.type_code, o.what, o.rcpt) r
              GROUP BY r.type_code, r.what
              -- Catch-up on its own record, not the units': a silenced
              -- unit's missing notice must not send a digest every day.
              HAVING bool_or(r.due_today)
                  OR (bool_or(r.catch_up)
                      AND NOT cchc_notice_sent('digest.overdue:' || r.type_code || ':'
                                               || r.what || ':'))) g
        WHERE NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = g.key)
          AND NOT cchc_sched_silenced(NULL, 'digest.overdue', p_today)
        ORDER BY g.key;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    rule := 'digest'; inserted := n; RETURN NEXT;

    -- report.escalated to leadership: the units overdue for p_escalate_wd
    -- full working days, on the next working day, as one digest (a closed
    -- unit's under its heir).
    n := 0;
    IF p_fire_overdue THEN
        INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
        SELECT 'report.escalated', '@leadership', NULL, g.key,
               format('Quá hạn %s ngày làm việc, %s đơn vị chưa nộp %s (%s) %s, hạn %s: %s.',
                      p_escalate_wd, g.missing, g.type_name, g.type_code, g.what,
                      cchc_dmy(g.due), g.names),
               format('%s working days overdue, %s unit(s) have not submitted %s %s, due %s: %s.',
                      p_escalate_wd, g.missing, g.type_code, g.what, cchc_ymd(g.due), g.codes),
               jsonb_build_object('type', g.type_code, 'period', g.period,
                                  'subject', g.subject, 'due', cchc_ymd(g.due),
                                  'status', 'overdue', 'units', g.units, 'missing', g.missing,
                                  'working_days_overdue', p_escalate_wd)
               || CASE WHEN g.passed IS NOT NULL THEN jsonb_build_object('for', g.passed)
                       ELSE '{}'::jsonb END
        FROM (SELECT r.type_code, min(r.type_name) AS type_name, r.what,
                     min(r.period) AS period, min(r.subject) AS subject, min(r.due) AS due,
                     count(*) AS missing,
                     string_agg(r.name_vi, ', ' ORDER BY r.rcpt) AS names,
                     string_agg(r.name_en, ', ' ORDER BY r.rcpt) AS codes,
                     jsonb_agg(r.rcpt ORDER BY r.rcpt) AS units,
                     jsonb_object_agg(r.rcpt, r.preds) FILTER (WHERE r.preds IS NOT NULL)
                         AS passed,
                     'report.escalated:' || r.type_code || ':' || r.what || ':'
                     || cchc_ymd(p_today) AS key
              FROM (SELECT o.type_code, min(o.type_name) AS type_name, o.what,
                           min(o.period) AS period, min(o.subject) AS subject,
                           min(o.due) AS due, o.rcpt,
                           min(o.rcpt_name)
                           || coalesce(' (nộp thay ' || string_agg(
                                              o.unit_name || CASE WHEN o.unit_name = o.rcpt_name
                                                                  THEN ' cũ' ELSE '' END,
                                              ', ' ORDER BY o.unit_code)
                                           FILTER (WHERE o.unit_code <> o.rcpt) || ')', '')
                               AS name_vi,
                           o.rcpt || coalesce(' (for ' || string_agg(o.unit_code, ', '
                                                                     ORDER BY o.unit_code)
                                                  FILTER (WHERE o.unit_code <> o.rcpt) || ')', '')
                               AS name_en,
                           jsonb_agg(o.unit_code ORDER BY o.unit_code)
                               FILTER (WHERE o.unit_code <> o.rcpt) AS preds
                    FROM cchc_sched_open o
                    WHERE o.k = p_escalate_wd + 1
                       -- Catch-up: its day had no tick, and it was never escalated.
                       OR (o.k > p_escalate_wd + 1 AND o.k <= p_escalate_wd + p_repeat_wd
                           AND NOT cchc_notice_sent('report.escalated:' || o.type_code || ':'
                                                    || o.what || ':'))
                    GROUP BY o.type_code, o.what, o.rcpt) r
              GROUP BY r.type_code, r.what) g
        WHERE NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = g.key)
          AND NOT cchc_sched_silenced(NULL, 'report.escalated', p_today)
        ORDER BY g.key;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    rule := 'escalated'; inserted := n; RETURN NEXT;

    -- agent.silent to Home Affairs: an open unit not heard from for
    -- p_silent_hours; once per last contact.
    INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
    SELECT 'agent.silent', '@home_affairs', u.code, s.key,
           format('Máy trạm của %s không liên lạc từ %s (quá %s giờ).', u.name,
                  to_char(c.last_seen AT TIME ZONE 'UTC' + interval '7 hours',
                          'HH24:MI DD/MM/YYYY'), p_silent_hours),
           format('The agent of %s has not been in contact since %s (over %s hours).', u.code,
                  to_char(c.last_seen AT TIME ZONE 'UTC' + interval '7 hours',
                          'YYYY-MM-DD HH24:MI'), p_silent_hours),
           jsonb_build_object('unit', u.code, 'last_seen',
                              to_char(c.last_seen AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                              'silent_hours', p_silent_hours)
    FROM unit_contacts c
    JOIN units u ON u.code = c.unit_code
    CROSS JOIN LATERAL (SELECT 'agent.silent:' || u.code || ':'
                               || cchc_ymd(cchc_vn_date(c.last_seen)) AS key) s
    WHERE c.last_seen < v_silent_before
      AND u.valid_from <= p_today AND (u.valid_to IS NULL OR u.valid_to >= p_today)
      AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = s.key)
      AND NOT cchc_sched_silenced(u.code, 'agent.silent', p_today)
    ORDER BY u.code;
    GET DIAGNOSTICS n = ROW_COUNT;
    rule := 'silent'; inserted := n; RETURN NEXT;
    -- remediation.due / remediation.overdue also go to the inspection team and
    -- to Home Affairs (DOMAIN.md section 8): one copy each, keyed by recipient.
    INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
    SELECT s.kind, r.recipient, s.about, s.dedup_key || ':' || r.recipient, s.text_vi,
           s.text_en, s.facts
    FROM cchc_sched_staged s
    CROSS JOIN (VALUES (1, '@inspection_team'), (2, '@home_affairs')) r(o, recipient)
    WHERE s.kind IN ('remediation.due', 'remediation.overdue')
      AND NOT EXISTS (SELECT 1 FROM notifications x
                      WHERE x.dedup_key = s.dedup_key || ':' || r.recipient)
      AND NOT cchc_sched_silenced(NULL, s.kind, p_today)
    ORDER BY s.ord, r.o;

    -- Number every staged row at once, in staging order, and insert them.
    SELECT count(*) INTO n FROM cchc_sched_staged;
    IF n > 0 THEN
        WITH c AS (UPDATE notification_counter SET last_seq = last_seq + n WHERE id = 1
                   RETURNING last_seq - n AS base)
        INSERT INTO notifications (seq, kind, unit_code, about, dedup_key, text_vi, text_en,
                                   facts, created_at)
        SELECT c.base + row_number() OVER (ORDER BY s.ord), s.kind, s.unit_code, s.about,
               s.dedup_key, s.text_vi, s.text_en, s.facts, p_now
        FROM cchc_sched_staged s, c;
    END IF;
END $$;

-- ---- the batch's store, with the sender --------------------------------------------------------------
-- As 017, and a report's object may carry "sent_by": the unit whose key sent
-- it when that is not the report's own unit (a successor sending a
-- predecessor's obligation; the server decides it may). It is stored in
-- reports.sent_by; the receipts (report.accepted, report.rejected, and
-- report.resolved's copy to the unit) go to the sender and name both. The
-- expectation met is the report's unit's, as for any report.
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
    CREATE TEMP TABLE IF NOT EXISTS cchc_sn (
        o bigserial, kind text, unit_code text, about text, dedup_key text, text_vi text,
        text_en text, facts jsonb, created_at timestamptz);
    -- Emptied by DELETE, which costs next to nothing; TRUNCATE (or ON COMMIT
    -- DELETE ROWS) makes new files for each table and index and took most of
    -- a small batch's time. What the deleted rows leave is reclaimed by a
    -- TRUNCATE once the tables have grown past 16 MB.
    IF pg_total_relation_size('pg_temp.cchc_sb') + pg_total_relation_size('pg_temp.cchc_sk')
       + pg_total_relation_size('pg_temp.cchc_sn') > 16 * 1024 * 1024 THEN
        TRUNCATE cchc_sb, cchc_sk, cchc_sn;
    ELSE
        DELETE FROM cchc_sb;
        DELETE FROM cchc_sk;
        DELETE FROM cchc_sn;
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
    -- Stored before: answered from the stored row.
    UPDATE cchc_sb b SET stored_dup = true, id = r.id, status = r.status, findings = r.findings,
                         same = r.payload = b.payload
    FROM reports r
    WHERE b.dup_of IS NULL AND r.unit_code = b.unit AND r.agent_epoch = b.epoch
      AND r.msg_id = b.msg_id;

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
        chain_first = coalesce(s.stored_first, f.received_at)
    FROM (SELECT b.k, min(b.ord) AS first_ord, max(b.ord) AS last_ord FROM cchc_sb b
          WHERE b.dup_of IS NULL AND NOT b.stored_dup AND b.status = 'accepted'
          GROUP BY b.k) a
    JOIN cchc_sb f ON f.ord = a.first_ord
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
    SELECT b.id, b.unit, b.epoch, b.msg_id, b.type, b.kind, b.period, b.revision, b.subject,
           b.sent_at, b.sealed_at, b.payload, b.body,
           CASE WHEN nx.next_id IS NOT NULL THEN 'superseded' ELSE b.status END,
           b.findings, b.received_at, s.chain_first, nx.next_id, b.sent_by
    FROM cchc_sb b
    LEFT JOIN cchc_sk s ON s.k = b.k AND b.status = 'accepted'
    LEFT JOIN (SELECT b2.ord, lead(b2.id) OVER (PARTITION BY b2.k ORDER BY b2.ord) AS next_id
               FROM cchc_sb b2
               WHERE b2.dup_of IS NULL AND NOT b2.stored_dup AND b2.status = 'accepted') nx
           ON nx.ord = b.ord
    WHERE b.dup_of IS NULL AND NOT b.stored_dup
    ORDER BY b.ord;

    SELECT count(*) INTO n FROM cchc_sk;
    IF n > 0 THEN
        UPDATE cchc_sk s SET last_id = b.id FROM cchc_sb b WHERE b.ord = s.last_ord;
        -- The stored accepted revision is superseded by the batch's first.
        UPDATE reports r SET status = 'superseded', superseded_by = f.id
        FROM cchc_sk s JOIN cchc_sb f ON f.ord = s.first_ord
        WHERE s.earlier AND r.report_type = s.type AND r.unit_code = s.unit
          AND r.period = s.period AND r.subject = s.subject AND r.status = 'accepted'
          AND r.id <> s.last_id;

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
        SET (exp_was, exp_due, exp_grace) = (SELECT x.status, x.due, x.grace_days
                                             FROM expectations x WHERE x.id = s.exp_id),
            (basis, v_at) = (
                SELECT CASE WHEN o.sealed THEN 'sealed' ELSE 'received' END,
                       CASE WHEN o.sealed THEN f.sealed_trusted_at ELSE s.chain_first END
                FROM cchc_sb f
                JOIN report_types t ON t.code = f.type
                CROSS JOIN LATERAL (SELECT NOT s.earlier AND f.sealed_trusted_at IS NOT NULL
                                           AND f.sealed_trusted_at <= s.chain_first
                                           AND t.timeliness_basis = 'sealed' AS sealed) o
                WHERE f.ord = s.first_ord)
        WHERE s.exp_id IS NOT NULL;
        UPDATE cchc_sk s
        SET exp_status = CASE WHEN s.exp_was NOT IN ('expected', 'overdue') THEN s.exp_was
                              WHEN cchc_vn_date(s.v_at) <= s.exp_due + s.exp_grace
                              THEN 'on_time' ELSE 'late' END
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
    UPDATE unit_contacts c SET clock_skew_ms = s.skew, clock_checked_at = s.received_at
    FROM (SELECT DISTINCT ON (b.unit) b.unit, b.skew, b.received_at FROM cchc_sb b
          WHERE b.skew IS NOT NULL ORDER BY b.unit, b.ord DESC) s
    WHERE c.unit_code = s.unit
      AND (c.clock_checked_at IS NULL OR c.clock_checked_at <= s.received_at);

    -- ---- the receipts, in the batch's order -----------------------------------------------
    -- report.accepted and report.rejected per new row; report.resolved to the
    -- unit and Home Affairs when an overdue obligation is met (texts as 007).
    INSERT INTO cchc_sn (kind, unit_code, about, dedup_key, text_vi, text_en, facts, created_at)
    SELECT z.kind, z.unit_code, z.about, z.dedup_key, z.text_vi, z.text_en, z.facts, z.created_at
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
          AND NOT EXISTS (SELECT 1 FROM notifications x
                          WHERE x.dedup_key = 'report.resolved:' || s.exp_id || ':' || g.target)
    ) z
    ORDER BY z.ord, z.sub;
    GET DIAGNOSTICS n = ROW_COUNT;
    -- Numbered at once, in that order (the counter is held to the commit).
    IF n > 0 THEN
        WITH c AS (UPDATE notification_counter SET last_seq = last_seq + n WHERE id = 1
                   RETURNING last_seq - n AS base)
        INSERT INTO notifications (seq, kind, unit_code, about, dedup_key, text_vi, text_en,
                                   facts, created_at)
        SELECT c.base + row_number() OVER (ORDER BY s.o), s.kind, s.unit_code, s.about,
               s.dedup_key, s.text_vi, s.text_en, s.facts, s.created_at
        FROM cchc_sn s, c;
    END IF;

    RETURN QUERY
    SELECT b.ord, coalesce(b.id, d.id), b.stored_dup OR b.dup_of IS NOT NULL,
           coalesce(d.status, b.status), coalesce(d.findings, b.findings),
           CASE WHEN b.dup_of IS NOT NULL THEN b.payload = d.payload ELSE b.same END
    FROM cchc_sb b LEFT JOIN cchc_sb d ON d.ord = b.dup_of
    ORDER BY b.ord;
END $$;

-- ---- exempting a closed unit's obligations at once ------------------------------------------------------
-- `cchc exempt --unit U --all-open --reason TEXT`: every obligation of U still
-- open (expected or overdue) becomes exempt, each change with its audit row
-- (as cchc_exempt, 012), in the caller's transaction, and the server is told.
-- Refused (SQLSTATE 55000) while U is open on cchc_today() (the CLI's clock):
-- an open unit's obligations are its own, exempted one by one. One row per
-- obligation exempted, none when there was nothing open.
CREATE FUNCTION cchc_exempt_closed(p_unit text, p_reason text)
RETURNS TABLE (type_code text, period text, subject text, due date, was text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    u units;
    e expectations;
    n expectations;
BEGIN
    IF char_length(btrim(coalesce(p_reason, ''))) < 3 THEN
        RAISE EXCEPTION 'the reason must be at least 3 characters' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO u FROM units x WHERE x.code = p_unit;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown unit %', p_unit USING ERRCODE = '22023';
    END IF;
    IF u.valid_to IS NULL OR u.valid_to >= cchc_today() THEN
        RAISE EXCEPTION 'unit % is not closed (valid_to %, today %)', p_unit,
            coalesce(u.valid_to::text, 'none'), cchc_today() USING ERRCODE = '55000';
    END IF;
    FOR e IN SELECT * FROM expectations x
             WHERE x.unit_code = p_unit AND x.status IN ('expected', 'overdue')
             ORDER BY x.due, x.type_code, x.period, x.subject
             FOR UPDATE LOOP
        UPDATE expectations x SET status = 'exempt', exempt_reason = p_reason, updated_at = now()
        WHERE x.id = e.id RETURNING * INTO n;
        INSERT INTO audit_log (table_name, op, before, after)
        VALUES ('expectations', 'UPDATE', to_jsonb(e), to_jsonb(n));
        type_code := e.type_code; period := e.period; subject := e.subject; due := e.due;
        was := e.status;
        RETURN NEXT;
    END LOOP;
    PERFORM pg_notify('cchc_meta', 'expectations');
END $$;

-- ---- the figures, rolled up on demand -------------------------------------------------------------------
-- The views of 013 whose rows belong to a unit show it as cchc_unit_shown():
-- the unit itself, or, when the session sets cchc.rollup = on, the last unit
-- of its successor chain, so that a successor's rows include its
-- predecessors' history (Xã Vân Sơn 07621 with xa-van-son and xa-huu-san).
-- source_unit (new, last) is always the unit the row is of. Sums per unit
-- count a unit's fields and a field's units once however many predecessors
-- report them. Everything else is as in 013; without the setting every row
-- is as before.

CREATE OR REPLACE VIEW cchc_status AS
SELECT e.id AS expectation_id, e.type_code, t.name_vi AS type_name, t.content_kind,
       e.period, e.subject, cchc_sched_what(e.period, e.subject) AS what,
       u.code AS unit_code, u.name AS unit_name, u.kind AS unit_kind,
       e.due, e.grace_days, s.status, cchc_label_vi(s.status) AS status_vi,
       e.basis, e.met_at, cchc_vn_date(e.met_at) AS met_on, e.report_id,
       CASE s.status
           WHEN 'late' THEN cchc_wd_count(e.due + e.grace_days, cchc_vn_date(e.met_at))
           WHEN 'overdue' THEN cchc_wd_count(e.due + e.grace_days, cchc_today())
           ELSE 0 END AS wd_late,
       e.exempt_reason, e.unit_code AS source_unit
FROM expectations e
JOIN report_types t ON t.code = e.type_code
JOIN units u ON u.code = cchc_unit_shown(e.unit_code)
CROSS JOIN LATERAL (
    SELECT CASE WHEN e.status IN ('on_time', 'late', 'exempt') THEN e.status
                WHEN e.due + e.grace_days < cchc_today() THEN 'overdue'
                ELSE 'not_yet_due' END AS status) s
WHERE e.status <> 'cancelled';

CREATE OR REPLACE VIEW cchc_dossiers AS
SELECT r.type_code, r.period, u.code AS unit_code, u.name AS unit_name, u.kind AS unit_kind,
       r.id AS report_id, r.revision, d.field,
       d.carried_over, d.new_online, d.new_direct_postal,
       d.new_online + d.new_direct_postal AS new_total,
       d.carried_over + d.new_online + d.new_direct_postal AS received,
       d.resolved_early, d.resolved_on_time, d.resolved_late,
       d.resolved_early + d.resolved_on_time + d.resolved_late AS resolved,
       d.pending_in_time, d.pending_overdue,
       d.pending_in_time + d.pending_overdue AS pending,
       cchc_rate(d.resolved_early + d.resolved_on_time,
                 d.resolved_early + d.resolved_on_time + d.resolved_late) AS on_time_rate,
       cchc_rate(d.new_online, d.new_online + d.new_direct_postal) AS online_share,
       d.pending_overdue AS overdue_backlog, r.unit_code AS source_unit
FROM cchc_latest_reports r
JOIN dossier_rows d ON d.report_id = r.id
JOIN units u ON u.code = cchc_unit_shown(r.unit_code)
WHERE r.content_kind = 'periodic';

CREATE OR REPLACE VIEW cchc_dossier_units AS
SELECT d.type_code, d.period, d.unit_code, min(d.unit_name) AS unit_name,
       min(d.unit_kind) AS unit_kind, min(d.report_id) AS report_id,
       count(DISTINCT d.field) AS fields,
       sum(d.carried_over) AS carried_over, sum(d.new_online) AS new_online,
       sum(d.new_direct_postal) AS new_direct_postal, sum(d.new_total) AS new_total,
       sum(d.received) AS received, sum(d.resolved_early) AS resolved_early,
       sum(d.resolved_on_time) AS resolved_on_time, sum(d.resolved_late) AS resolved_late,
       sum(d.resolved) AS resolved, sum(d.pending_in_time) AS pending_in_time,
       sum(d.pending_overdue) AS pending_overdue, sum(d.pending) AS pending,
       cchc_rate(sum(d.resolved_early + d.resolved_on_time), sum(d.resolved)) AS on_time_rate,
       cchc_rate(sum(d.new_online), sum(d.new_total)) AS online_share,
       sum(d.pending_overdue) AS overdue_backlog
FROM cchc_dossiers d
GROUP BY d.type_code, d.period, d.unit_code;

CREATE OR REPLACE VIEW cchc_dossier_fields AS
SELECT d.type_code, d.period, d.field, count(DISTINCT d.unit_code) AS units,
       sum(d.carried_over) AS carried_over, sum(d.new_online) AS new_online,
       sum(d.new_direct_postal) AS new_direct_postal, sum(d.new_total) AS new_total,
       sum(d.received) AS received, sum(d.resolved_early) AS resolved_early,
       sum(d.resolved_on_time) AS resolved_on_time, sum(d.resolved_late) AS resolved_late,
       sum(d.resolved) AS resolved, sum(d.pending_in_time) AS pending_in_time,
       sum(d.pending_overdue) AS pending_overdue, sum(d.pending) AS pending,
       cchc_rate(sum(d.resolved_early + d.resolved_on_time), sum(d.resolved)) AS on_time_rate,
       cchc_rate(sum(d.new_online), sum(d.new_total)) AS online_share,
       sum(d.pending_overdue) AS overdue_backlog
FROM cchc_dossiers d
GROUP BY d.type_code, d.period, d.field;

CREATE OR REPLACE VIEW cchc_overdue_dossiers AS
SELECT r.type_code, r.period, u.code AS unit_code, u.name AS unit_name, r.id AS report_id,
       o.seq, o.code AS dossier_code, o.field, o.procedure, o.received, o.due, o.resolved,
       s.state, cchc_label_vi(s.state) AS state_vi,
       CASE WHEN o.due IS NOT NULL
            THEN cchc_wd_count(o.due, coalesce(o.resolved, p.cutoff_end)) END AS wd_late,
       o.cause, o.remedy, o.apology_number, o.apology_date, o.apology_new_due,
       r.unit_code AS source_unit
FROM cchc_latest_reports r
JOIN overdue_dossiers o ON o.report_id = r.id
JOIN units u ON u.code = cchc_unit_shown(r.unit_code)
LEFT JOIN periods p ON p.type_code = r.type_code AND p.period = r.period
CROSS JOIN LATERAL (SELECT CASE WHEN o.resolved IS NULL THEN 'pending'
                                ELSE 'resolved_late' END AS state) s
WHERE r.content_kind = 'periodic';

CREATE OR REPLACE VIEW cchc_remediation_findings AS
SELECT i.code AS inspection, u.code AS unit_code, u.name AS unit_name, i.team, i.inspected_on,
       i.conclusion_number, i.conclusion_date, i.remediation_due, f.no AS finding_no,
       f.text AS finding, s.status, cchc_label_vi(s.status) AS status_vi,
       ri.actions, array_to_string(ri.evidence, '; ') AS evidence, ri.cause, ri.plan,
       ri.expected_by, r.id AS report_id, r.revision, r.received_at,
       i.unit_code AS source_unit
FROM inspections i
JOIN inspection_findings f ON f.inspection_id = i.id
JOIN units u ON u.code = cchc_unit_shown(i.unit_code)
LEFT JOIN cchc_latest_reports r ON r.content_kind = 'remediation' AND r.subject = i.code
                               AND r.unit_code = i.unit_code
LEFT JOIN remediation_items ri ON ri.report_id = r.id AND ri.finding_no = f.no
CROSS JOIN LATERAL (SELECT coalesce(ri.status, 'open') AS status) s;

CREATE OR REPLACE VIEW cchc_remediation AS
SELECT i.code AS inspection, u.code AS unit_code, u.name AS unit_name, i.team, i.inspected_on,
       i.conclusion_number, i.conclusion_date, i.remediation_due, i.status AS inspection_status,
       f.findings, f.remedied, f.in_progress, f.not_remedied, f.open,
       cchc_rate(f.remedied, f.findings) AS completion_rate,
       f.report_id, f.revision, f.received_at,
       st.status AS report_status, cchc_label_vi(st.status) AS report_status_vi, st.wd_late,
       i.unit_code AS source_unit
FROM inspections i
JOIN units u ON u.code = cchc_unit_shown(i.unit_code)
CROSS JOIN LATERAL (
    SELECT count(*) AS findings,
           count(*) FILTER (WHERE x.status = 'remedied') AS remedied,
           count(*) FILTER (WHERE x.status = 'in_progress') AS in_progress,
           count(*) FILTER (WHERE x.status = 'not_remedied') AS not_remedied,
           count(*) FILTER (WHERE x.status = 'open') AS open,
           max(x.report_id) AS report_id, max(x.revision) AS revision,
           max(x.received_at) AS received_at
    FROM cchc_remediation_findings x WHERE x.inspection = i.code) f
LEFT JOIN LATERAL (
    SELECT s.status, s.wd_late FROM cchc_status s
    WHERE s.content_kind = 'remediation' AND s.subject = i.code AND s.source_unit = i.unit_code
    ORDER BY s.expectation_id LIMIT 1) st ON true;

CREATE OR REPLACE VIEW cchc_task_units AS
SELECT k.code AS task_code, k.title, k.index_name, k.dimension, k.target, k.due,
       u.code AS unit_code, u.name AS unit_name, e.status AS expectation_status,
       lp.status AS progress_status, lp.percent, lp.result, lp.report_id, lp.received_at,
       bd.status = 'done' AS done_by_due, st.state, cchc_label_vi(st.state) AS state_vi,
       e.unit_code AS source_unit
FROM plan_tasks k
JOIN expectations e ON e.subject = k.code AND e.period = '' AND e.status <> 'cancelled'
JOIN report_types t ON t.code = e.type_code AND t.content_kind = 'task_progress'
JOIN units u ON u.code = cchc_unit_shown(e.unit_code)
LEFT JOIN LATERAL (
    SELECT tp.status, tp.percent, tp.result, r.id AS report_id, r.received_at
    FROM cchc_latest_reports r JOIN task_progress tp ON tp.report_id = r.id
    WHERE r.type_code = e.type_code AND r.unit_code = e.unit_code AND r.subject = k.code
    LIMIT 1) lp ON true
LEFT JOIN LATERAL (
    SELECT tp.status
    FROM reports r JOIN task_progress tp ON tp.report_id = r.id
    WHERE r.report_type = e.type_code AND r.unit_code = e.unit_code AND r.subject = k.code
      AND r.status IN ('accepted', 'superseded') AND cchc_vn_date(r.received_at) <= k.due
    ORDER BY r.revision DESC, r.id DESC LIMIT 1) bd ON true
CROSS JOIN LATERAL (
    SELECT CASE WHEN e.status = 'exempt' THEN 'exempt'
                WHEN bd.status = 'done' THEN 'done'
                WHEN k.due < cchc_today() THEN 'overdue'
                WHEN lp.status = 'blocked' THEN 'blocked'
                WHEN lp.report_id IS NOT NULL THEN 'in_progress'
                ELSE 'not_reported' END AS state) st;

-- ---- privileges ---------------------------------------------------------------------------------------------
-- The scheduler's and the store's functions are the server's (011); viewers
-- read the helpers and the views; operators exempt through the function.
REVOKE ALL ON FUNCTION cchc_sched_expectations(date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION cchc_exempt_closed(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cchc_exempt_closed(text, text) TO cchc_operator;
REVOKE ALL ON FUNCTION cchc_unit_heir(text, date), cchc_rollup_unit(text), cchc_rollup_on(),
    cchc_unit_shown(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cchc_unit_heir(text, date), cchc_rollup_unit(text), cchc_rollup_on(),
    cchc_unit_shown(text) TO cchc_viewer;
GRANT SELECT ON cchc_unit_rollup, cchc_refusals, cchc_status, cchc_dossiers, cchc_dossier_units,
    cchc_dossier_fields, cchc_overdue_dossiers, cchc_remediation_findings, cchc_remediation,
    cchc_task_units TO cchc_viewer;
