-- 006_scheduler: what the scheduler (server/srv_sched.c) asks the database.
--
--   cchc_wd_is(day)                  a working day by the calendar (as cchc_period.c);
--   cchc_wd_count(a, b)              working days in (a, b];
--   cchc_sched_expectations(start)   expectations for every period, inspection and
--                                    task whose due date is on or after start;
--   cchc_sched_rules(...)            the notification rules of one tick.
--
-- The periods rows (cut-off window, due date) are computed in C from the
-- type's rules and the calendar and upserted before cchc_sched_expectations.
-- Every rule judges "nothing accepted" as of the tick's instant (met_at after
-- it counts as not met), so a tick is a function of the data and its instant:
-- ticks run late, twice or out of order insert the same rows.
-- Notifications are inserted with NOT EXISTS on dedup_key, never ON CONFLICT
-- DO NOTHING, which would leave a gap in the sequence.

CREATE FUNCTION cchc_wd_is(p_day date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT c.kind = 'swap_work' FROM calendar_days c WHERE c.day = p_day),
                    extract(isodow FROM p_day) <= 5)
$$;

CREATE FUNCTION cchc_wd_count(p_a date, p_b date) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT count(*)::integer
    FROM generate_series(p_a + 1, p_b, interval '1 day') g(d)
    LEFT JOIN calendar_days c ON c.day = g.d::date
    WHERE CASE WHEN c.kind IS NULL THEN extract(isodow FROM g.d) <= 5
               ELSE c.kind = 'swap_work' END
$$;

-- The label of what an expectation is for: the period, else the inspection
-- or task code.
CREATE FUNCTION cchc_sched_what(p_period text, p_subject text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_period <> '' THEN p_period ELSE p_subject END
$$;

CREATE FUNCTION cchc_dmy(d date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(d, 'DD/MM/YYYY')
$$;

-- The kind of a reminder by the type's content kind and the rule.
CREATE FUNCTION cchc_sched_kind(p_content text, p_rule text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_content
        WHEN 'remediation' THEN CASE WHEN p_rule = 'overdue' THEN 'remediation.overdue'
                                     ELSE 'remediation.due' END
        WHEN 'task_progress' THEN CASE WHEN p_rule = 'overdue' THEN 'task.overdue'
                                       ELSE 'task.due' END
        ELSE CASE p_rule WHEN 'approaching' THEN 'deadline.approaching'
                         WHEN 'today' THEN 'deadline.today'
                         ELSE 'report.overdue' END
    END
$$;

CREATE FUNCTION cchc_sched_silenced(p_unit text, p_kind text, p_day date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM silences s
                   WHERE s.removed_at IS NULL AND s.until >= p_day
                     AND (s.unit_code IS NULL OR s.unit_code = p_unit)
                     AND (s.kind IS NULL OR s.kind = p_kind))
$$;

-- ---- expectations --------------------------------------------------------------------

CREATE FUNCTION cchc_sched_expectations(p_start date) RETURNS integer
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

-- ---- the rules of one tick -------------------------------------------------------------
--
-- p_now: the tick's instant; p_today its civil date (a working day: the
-- caller does not call on other days); p_d1, p_d3: 1 and 3 working days after
-- p_today; p_fire_*: the rule's hour has come. Returns one row per rule with
-- the rows it inserted.
-- The rules write to a temporary staging table; at the end one statement
-- takes the notification counter once, numbers the rows and inserts them. A
-- tick thus holds the counter (which a stored report's receipt notification
-- also needs) only for its last step: holding it for the whole tick stalled
-- ingest for ~10 s in a 10,000-unit storm (tests/bench/storm.sh).
-- Remediation notices are also copied to the inspection team and Home Affairs.
CREATE FUNCTION cchc_sched_rules(p_now timestamptz, p_today date, p_d1 date, p_d3 date,
                                 p_fire_approaching boolean, p_fire_today boolean,
                                 p_fire_overdue boolean, p_repeat_wd integer,
                                 p_escalate_wd integer, p_silent_hours integer)
RETURNS TABLE (rule text, inserted integer)
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    v_silent_before timestamptz := p_now - make_interval(hours => p_silent_hours);
BEGIN
    -- Expectations not met as of p_now, with what the texts need.
    CREATE TEMP TABLE IF NOT EXISTS cchc_sched_open (
        id bigint, type_code text, type_name text, content_kind text, unit_code text,
        unit_name text, period text, subject text, what text, due date, grace_days integer,
        status text, k integer, silent boolean, noticed boolean) ON COMMIT DROP;
    TRUNCATE cchc_sched_open;
    -- Rows are staged, then numbered and inserted at the very end (see the
    -- banner): the notification counter is locked for that last step only.
    CREATE TEMP TABLE IF NOT EXISTS cchc_sched_staged (
        ord bigserial, kind text, unit_code text, about text, dedup_key text,
        text_vi text, text_en text, facts jsonb) ON COMMIT DROP;
    TRUNCATE cchc_sched_staged;
    INSERT INTO cchc_sched_open
    SELECT e.id, e.type_code, t.name_vi, t.content_kind, e.unit_code, u.name, e.period,
           e.subject, cchc_sched_what(e.period, e.subject), e.due, e.grace_days,
           CASE WHEN e.due + e.grace_days < p_today THEN 'overdue' ELSE 'expected' END,
           cchc_wd_count(e.due + e.grace_days, p_today),
           EXISTS (SELECT 1 FROM unit_contacts c
                   WHERE c.unit_code = e.unit_code AND c.last_seen < v_silent_before),
           -- Overdue and told so at least once (any day): without it, the
           -- first notice is due today whatever k is (a catch-up after days
           -- without a tick).
           e.due + e.grace_days < p_today
           AND cchc_notice_sent(cchc_sched_kind(t.content_kind, 'overdue') || ':' || e.id || ':')
    FROM expectations e
    JOIN report_types t ON t.code = e.type_code
    JOIN units u ON u.code = e.unit_code
    WHERE e.status NOT IN ('exempt', 'cancelled')
      AND (e.met_at IS NULL OR e.met_at > p_now)
      AND e.due <= p_d3;

    -- deadline.approaching (remediation.due, task.due): 3 and 1 working days before.
    n := 0;
    IF p_fire_approaching THEN
        INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
        SELECT c.kind, o.unit_code, o.unit_code, c.key,
               format('Còn %s ngày làm việc đến hạn nộp %s (%s) %s: hạn %s. Đơn vị: %s.',
                      c.wd, o.type_name, o.type_code, o.what, cchc_dmy(o.due), o.unit_name),
               format('%s working day(s) left to submit %s %s: due %s. Unit: %s.',
                      c.wd, o.type_code, o.what, cchc_ymd(o.due), o.unit_code),
               jsonb_build_object('type', o.type_code, 'period', o.period, 'subject', o.subject,
                                  'due', cchc_ymd(o.due), 'status', o.status,
                                  'unit', o.unit_code, 'working_days_left', c.wd)
        FROM cchc_sched_open o
        CROSS JOIN LATERAL (SELECT CASE WHEN o.due = p_d3 THEN 3 ELSE 1 END AS wd) w
        CROSS JOIN LATERAL (SELECT cchc_sched_kind(o.content_kind, 'approaching') AS kind,
                                   cchc_sched_kind(o.content_kind, 'approaching') || ':' || o.id
                                   || ':' || w.wd AS key, w.wd) c
        WHERE (o.due = p_d3 OR o.due = p_d1) AND o.due > p_today
          AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = c.key)
          AND NOT cchc_sched_silenced(o.unit_code, c.kind, p_today)
        ORDER BY o.id, c.wd;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    rule := 'approaching'; inserted := n; RETURN NEXT;

    -- deadline.today: the due date.
    n := 0;
    IF p_fire_today THEN
        INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
        SELECT c.kind, o.unit_code, o.unit_code, c.key,
               format('Hôm nay (%s) là hạn nộp %s (%s) %s. Đơn vị: %s.',
                      cchc_dmy(o.due), o.type_name, o.type_code, o.what, o.unit_name),
               format('Today (%s) is the deadline for %s %s. Unit: %s.',
                      cchc_ymd(o.due), o.type_code, o.what, o.unit_code),
               jsonb_build_object('type', o.type_code, 'period', o.period, 'subject', o.subject,
                                  'due', cchc_ymd(o.due), 'status', o.status,
                                  'unit', o.unit_code)
        FROM cchc_sched_open o
        CROSS JOIN LATERAL (SELECT cchc_sched_kind(o.content_kind, 'today') AS kind,
                                   CASE WHEN o.content_kind = 'periodic'
                                        THEN 'deadline.today:' || o.id
                                        ELSE cchc_sched_kind(o.content_kind, 'today') || ':'
                                             || o.id || ':0' END AS key) c
        WHERE o.due = p_today
          AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = c.key)
          AND NOT cchc_sched_silenced(o.unit_code, c.kind, p_today)
        ORDER BY o.id;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    rule := 'today'; inserted := n; RETURN NEXT;

    -- report.overdue (remediation.overdue, task.overdue): the first working
    -- day after due + grace, then every p_repeat_wd working days. A first
    -- notice whose day had no tick (the server was down) goes out at the
    -- next tick that fires overdue rules, within p_repeat_wd working days
    -- (later, the regular repeat is due anyway: a first deployment does not
    -- flood everyone with months-old notices). The escalation likewise.
    n := 0;
    IF p_fire_overdue THEN
        INSERT INTO cchc_sched_staged (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
        SELECT c.kind, o.unit_code, o.unit_code, c.key,
               format('Quá hạn nộp %s (%s) %s: hạn %s, đã quá %s ngày làm việc. Đơn vị: %s.',
                      o.type_name, o.type_code, o.what, cchc_dmy(o.due), o.k, o.unit_name),
               format('%s %s is overdue: due %s, %s working day(s) late. Unit: %s.',
                      o.type_code, o.what, cchc_ymd(o.due), o.k, o.unit_code),
               jsonb_build_object('type', o.type_code, 'period', o.period, 'subject', o.subject,
                                  'due', cchc_ymd(o.due), 'status', 'overdue',
                                  'unit', o.unit_code, 'working_days_overdue', o.k)
               || CASE WHEN o.silent THEN '{"agent_silent": true}'::jsonb
                       ELSE '{}'::jsonb END
        FROM cchc_sched_open o
        CROSS JOIN LATERAL (SELECT cchc_sched_kind(o.content_kind, 'overdue') AS kind,
                                   cchc_sched_kind(o.content_kind, 'overdue') || ':' || o.id
                                   || ':' || cchc_ymd(p_today) AS key) c
        WHERE o.k >= 1 AND ((o.k - 1) % p_repeat_wd = 0 OR (o.k <= p_repeat_wd AND NOT o.noticed))
          AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = c.key)
          AND NOT cchc_sched_silenced(o.unit_code, c.kind, p_today)
        ORDER BY o.id;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    rule := 'overdue'; inserted := n; RETURN NEXT;

    -- digest.overdue to Home Affairs: per type and period (or subject), on
    -- the days report.overdue fires for it, every unit still missing.
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
        FROM (SELECT o.type_code, min(o.type_name) AS type_name, o.what,
                     min(o.period) AS period, min(o.subject) AS subject, min(o.due) AS due,
                     count(*) AS missing,
                     (SELECT count(*) FROM expectations e
                      WHERE e.type_code = o.type_code
                        AND cchc_sched_what(e.period, e.subject) = o.what
                        AND e.status NOT IN ('exempt', 'cancelled')) AS total,
                     string_agg(o.unit_name, ', ' ORDER BY o.unit_code) AS names,
                     string_agg(o.unit_code, ', ' ORDER BY o.unit_code) AS codes,
                     jsonb_agg(o.unit_code ORDER BY o.unit_code) AS units,
                     'digest.overdue:' || o.type_code || ':' || o.what || ':'
                     || cchc_ymd(p_today) AS key
              FROM cchc_sched_open o
              WHERE o.k >= 1
              GROUP BY o.type_code, o.what
              -- Catch-up on its own record, not the units': a silenced
              -- unit's missing notice must not send a digest every day.
              HAVING bool_or((o.k - 1) % p_repeat_wd = 0)
                  OR (bool_or(o.k <= p_repeat_wd)
                      AND NOT cchc_notice_sent('digest.overdue:' || o.type_code || ':'
                                               || o.what || ':'))) g
        WHERE NOT EXISTS (SELECT 1 FROM notifications x WHERE x.dedup_key = g.key)
          AND NOT cchc_sched_silenced(NULL, 'digest.overdue', p_today)
        ORDER BY g.key;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    rule := 'digest'; inserted := n; RETURN NEXT;

    -- report.escalated to leadership: the units overdue for p_escalate_wd
    -- full working days, on the next working day, as one digest.
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
        FROM (SELECT o.type_code, min(o.type_name) AS type_name, o.what,
                     min(o.period) AS period, min(o.subject) AS subject, min(o.due) AS due,
                     count(*) AS missing,
                     string_agg(o.unit_name, ', ' ORDER BY o.unit_code) AS names,
                     string_agg(o.unit_code, ', ' ORDER BY o.unit_code) AS codes,
                     jsonb_agg(o.unit_code ORDER BY o.unit_code) AS units,
                     'report.escalated:' || o.type_code || ':' || o.what || ':'
                     || cchc_ymd(p_today) AS key
              FROM cchc_sched_open o
              WHERE o.k = p_escalate_wd + 1
                 -- Catch-up: its day had no tick, and it was never escalated.
                 OR (o.k > p_escalate_wd + 1 AND o.k <= p_escalate_wd + p_repeat_wd
                     AND NOT cchc_notice_sent('report.escalated:' || o.type_code || ':'
                                              || o.what || ':'))
              GROUP BY o.type_code, o.what) g
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
