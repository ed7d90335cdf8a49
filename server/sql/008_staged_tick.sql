-- 008_staged_tick: a tick no longer holds the notification counter while it
-- computes. Before, every row a tick inserted took the counter's row lock
-- (trigger cchc_notification_seq) and kept it to commit, so a report stored
-- meanwhile (its receipt notification needs the counter) waited for the
-- whole tick: about 10 s in a 10,000-unit storm (tests/bench/storm.sh).
-- Now the rules write to a temporary staging table; at the end one statement
-- takes the counter once, numbers the rows and inserts them. Sequence numbers
-- stay in commit order and without gaps: the lock is still held to commit,
-- only for the end of the tick. The trigger keeps numbering single rows and
-- leaves a seq it is given alone. Remediation notices are also copied to
-- the inspection team and Home Affairs here.

CREATE OR REPLACE FUNCTION cchc_notification_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NULL THEN
        UPDATE notification_counter SET last_seq = last_seq + 1 WHERE id = 1
            RETURNING last_seq INTO NEW.seq;
    END IF;
    NEW.topic := NEW.kind || '.' || NEW.unit_code;
    RETURN NEW;
END $$;

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
    -- Expectations not met as of p_now, with what the texts need.
    CREATE TEMP TABLE IF NOT EXISTS cchc_sched_open (
        id bigint, type_code text, type_name text, content_kind text, unit_code text,
        unit_name text, period text, subject text, what text, due date, grace_days integer,
        status text, k integer, silent boolean) ON COMMIT DROP;
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
                   WHERE c.unit_code = e.unit_code AND c.last_seen < v_silent_before)
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
    -- day after due + grace, then every p_repeat_wd working days.
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
        WHERE o.k >= 1 AND (o.k - 1) % p_repeat_wd = 0
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
              HAVING bool_or((o.k - 1) % p_repeat_wd = 0)) g
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
                                   facts)
        SELECT c.base + row_number() OVER (ORDER BY s.ord), s.kind, s.unit_code, s.about,
               s.dedup_key, s.text_vi, s.text_en, s.facts
        FROM cchc_sched_staged s, c;
    END IF;
END $$;
