-- 013_figures: the figures the district wants (DOMAIN.md sections 7 and 9), as
-- views that the CLI (cchc status, overdue, dossiers, remediation, tasks,
-- agents, summary), a dashboard, psql or a BI tool read as cchc_viewer.
--
--   view                      one row per                          what
--   ------------------------  -----------------------------------  --------------------------
--   cchc_status               expectation (not cancelled)          on time, late, overdue, not
--                                                                  yet due, exempt; basis;
--                                                                  working days late
--   cchc_completeness         type and period (or subject)         counts by status; reporting
--                                                                  rate, on-time rate
--   cchc_latest_reports       report (type, unit, period, subject) its accepted latest revision
--   cchc_dossiers             unit, field and period               Form 06 figures and rates
--   cchc_dossier_units        unit and period (all fields)         the same, summed
--   cchc_dossier_fields       field and period (all units)         the district's totals
--   cchc_dossier_district     period (all units, all fields)       the district's grand total
--   cchc_overdue_dossiers     dossier handled past its deadline    cause, remedy, apology slip
--   cchc_remediation_findings finding of an inspection             status from the latest
--                                                                  accepted remediation report
--   cchc_remediation          inspection                           counts, completion rate
--   cchc_task_units           task and lead unit                   latest progress; done,
--                                                                  overdue, in progress ...
--   cchc_tasks                task                                 lead units done / overdue
--   cchc_task_dimensions      index, dimension and target          tasks done / overdue
--   cchc_agents_all           unit                                 last contact, version,
--                                                                  queue, skew, refusals
--   cchc_agents               open unit                            the same, units closed (or
--                                                                  not yet open) left out
--
-- Rates are percentages with two decimals, computed here from counts
-- (cchc_rate), never taken from a report; NULL when there is nothing to
-- divide by. "Now" is cchc_now(): the session setting cchc.now when a client
-- sets it (the CLI does, from its injectable clock), else now(); "today" is
-- its civil date in Asia/Ho_Chi_Minh.

CREATE FUNCTION cchc_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('cchc.now', true), '')::timestamptz, now())
$$;

CREATE FUNCTION cchc_today() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT cchc_vn_date(cchc_now())
$$;

-- 100 * a / b, rounded to two decimals; NULL when b is 0.
CREATE FUNCTION cchc_rate(a numeric, b numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN b > 0 THEN round(100.0 * a / b, 2) END
$$;

-- The Vietnamese label of a status, target, basis or unit kind code of these views.
CREATE FUNCTION cchc_label_vi(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE s
        WHEN 'on_time' THEN 'đúng hạn'
        WHEN 'late' THEN 'chậm hạn'
        WHEN 'overdue' THEN 'quá hạn'
        WHEN 'not_yet_due' THEN 'chưa đến hạn'
        WHEN 'exempt' THEN 'miễn nộp'
        WHEN 'done' THEN 'hoàn thành'
        WHEN 'in_progress' THEN 'đang thực hiện'
        WHEN 'blocked' THEN 'vướng mắc'
        WHEN 'not_reported' THEN 'chưa báo cáo'
        WHEN 'remedied' THEN 'đã khắc phục'
        WHEN 'not_remedied' THEN 'chưa khắc phục'
        WHEN 'open' THEN 'chưa trả lời'
        WHEN 'resolved_late' THEN 'đã giải quyết quá hạn'
        WHEN 'pending' THEN 'đang quá hạn'
        WHEN 'maintain' THEN 'duy trì'
        WHEN 'improve' THEN 'cải thiện'
        WHEN 'received' THEN 'lúc nhận'
        WHEN 'sealed' THEN 'lúc niêm phong'
        WHEN 'office' THEN 'phòng, ban'
        WHEN 'commune' THEN 'xã'
        WHEN 'town' THEN 'thị trấn'
        WHEN 'ward' THEN 'phường'
        WHEN 'district' THEN 'huyện'
        WHEN 'province' THEN 'tỉnh'
        WHEN 'other' THEN 'khác'
        ELSE s END
$$;

-- ---- who has reported ------------------------------------------------------------------
--
-- An expectation's status as the district sees it now: met on time or late,
-- exempt, and otherwise overdue once due + grace has passed by cchc_today()
-- (whether or not the scheduler has marked it yet: the view depends on the
-- data and the clock only), else not yet due. Cancelled ones (the
-- unit closed, the type unassigned) are no obligation and are left out.
-- wd_late: working days after due + grace, to the day it was met (late) or
-- to today (overdue).
CREATE VIEW cchc_status AS
SELECT e.id AS expectation_id, e.type_code, t.name_vi AS type_name, t.content_kind,
       e.period, e.subject, cchc_sched_what(e.period, e.subject) AS what,
       e.unit_code, u.name AS unit_name, u.kind AS unit_kind,
       e.due, e.grace_days, s.status, cchc_label_vi(s.status) AS status_vi,
       e.basis, e.met_at, cchc_vn_date(e.met_at) AS met_on, e.report_id,
       CASE s.status
           WHEN 'late' THEN cchc_wd_count(e.due + e.grace_days, cchc_vn_date(e.met_at))
           WHEN 'overdue' THEN cchc_wd_count(e.due + e.grace_days, cchc_today())
           ELSE 0 END AS wd_late,
       e.exempt_reason
FROM expectations e
JOIN report_types t ON t.code = e.type_code
JOIN units u ON u.code = e.unit_code
CROSS JOIN LATERAL (
    SELECT CASE WHEN e.status IN ('on_time', 'late', 'exempt') THEN e.status
                WHEN e.due + e.grace_days < cchc_today() THEN 'overdue'
                ELSE 'not_yet_due' END AS status) s
WHERE e.status <> 'cancelled';

-- DOMAIN.md section 9: reporting rate = accepted / expected, on-time rate =
-- on time / expected, expected counting neither exempt nor cancelled.
CREATE VIEW cchc_completeness AS
SELECT s.type_code, min(s.type_name) AS type_name, s.content_kind, s.period, s.subject, s.what,
       min(s.due) AS due,
       count(*) FILTER (WHERE s.status <> 'exempt') AS expected,
       count(*) FILTER (WHERE s.status IN ('on_time', 'late')) AS reported,
       count(*) FILTER (WHERE s.status = 'on_time') AS on_time,
       count(*) FILTER (WHERE s.status = 'late') AS late,
       count(*) FILTER (WHERE s.status = 'overdue') AS overdue,
       count(*) FILTER (WHERE s.status = 'not_yet_due') AS not_yet_due,
       count(*) FILTER (WHERE s.status = 'exempt') AS exempt,
       cchc_rate(count(*) FILTER (WHERE s.status IN ('on_time', 'late')),
                 count(*) FILTER (WHERE s.status <> 'exempt')) AS reporting_rate,
       cchc_rate(count(*) FILTER (WHERE s.status = 'on_time'),
                 count(*) FILTER (WHERE s.status <> 'exempt')) AS on_time_rate
FROM cchc_status s
GROUP BY s.type_code, s.content_kind, s.period, s.subject, s.what;

-- ---- what the reports say ---------------------------------------------------------------
--
-- The accepted latest revision of each report: cchc_store_report keeps one
-- accepted row per (type, unit, period, subject), superseding the others;
-- DISTINCT ON makes the views right even if that ever failed.
CREATE VIEW cchc_latest_reports AS
SELECT DISTINCT ON (r.report_type, r.unit_code, r.period, r.subject)
       r.id, r.report_type AS type_code, r.content_kind, r.unit_code, r.period, r.subject,
       r.revision, r.received_at, coalesce(r.first_received_at, r.received_at) AS first_received_at
FROM reports r
WHERE r.status = 'accepted'
ORDER BY r.report_type, r.unit_code, r.period, r.subject, r.revision DESC, r.id DESC;

-- Form 06 (Circular 01/2020/TT-VPCP): received = carried over + new (online,
-- direct or postal); resolved = early + on time + late; pending = in time +
-- overdue. on_time_rate = (early + on time) / resolved; online_share =
-- online / new; overdue_backlog = pending overdue.
CREATE VIEW cchc_dossiers AS
SELECT r.type_code, r.period, r.unit_code, u.name AS unit_name, u.kind AS unit_kind,
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
       d.pending_overdue AS overdue_backlog
FROM cchc_latest_reports r
JOIN dossier_rows d ON d.report_id = r.id
JOIN units u ON u.code = r.unit_code
WHERE r.content_kind = 'periodic';

CREATE VIEW cchc_dossier_units AS
SELECT d.type_code, d.period, d.unit_code, min(d.unit_name) AS unit_name,
       min(d.unit_kind) AS unit_kind, min(d.report_id) AS report_id, count(*) AS fields,
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

CREATE VIEW cchc_dossier_fields AS
SELECT d.type_code, d.period, d.field, count(*) AS units,
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

CREATE VIEW cchc_dossier_district AS
SELECT d.type_code, d.period, count(DISTINCT d.unit_code) AS units,
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
GROUP BY d.type_code, d.period;

-- Every dossier resolved late or pending past its deadline, with its cause,
-- its remedy and the apology slip. wd_late: working days from its due date
-- to the day it was resolved, or to the period's cut-off end while pending.
CREATE VIEW cchc_overdue_dossiers AS
SELECT r.type_code, r.period, r.unit_code, u.name AS unit_name, r.id AS report_id, o.seq,
       o.code AS dossier_code, o.field, o.procedure, o.received, o.due, o.resolved,
       s.state, cchc_label_vi(s.state) AS state_vi,
       CASE WHEN o.due IS NOT NULL
            THEN cchc_wd_count(o.due, coalesce(o.resolved, p.cutoff_end)) END AS wd_late,
       o.cause, o.remedy, o.apology_number, o.apology_date, o.apology_new_due
FROM cchc_latest_reports r
JOIN overdue_dossiers o ON o.report_id = r.id
JOIN units u ON u.code = r.unit_code
LEFT JOIN periods p ON p.type_code = r.type_code AND p.period = r.period
CROSS JOIN LATERAL (SELECT CASE WHEN o.resolved IS NULL THEN 'pending'
                                ELSE 'resolved_late' END AS state) s
WHERE r.content_kind = 'periodic';

-- ---- inspections and remediation -----------------------------------------------------------
--
-- A finding's status follows the latest accepted remediation report of its
-- inspection (DOMAIN.md section 6): remedied, in progress, not remedied, or
-- open while no report answers it.
CREATE VIEW cchc_remediation_findings AS
SELECT i.code AS inspection, i.unit_code, u.name AS unit_name, i.team, i.inspected_on,
       i.conclusion_number, i.conclusion_date, i.remediation_due, f.no AS finding_no,
       f.text AS finding, s.status, cchc_label_vi(s.status) AS status_vi,
       ri.actions, array_to_string(ri.evidence, '; ') AS evidence, ri.cause, ri.plan,
       ri.expected_by, r.id AS report_id, r.revision, r.received_at
FROM inspections i
JOIN inspection_findings f ON f.inspection_id = i.id
JOIN units u ON u.code = i.unit_code
LEFT JOIN cchc_latest_reports r ON r.content_kind = 'remediation' AND r.subject = i.code
                               AND r.unit_code = i.unit_code
LEFT JOIN remediation_items ri ON ri.report_id = r.id AND ri.finding_no = f.no
CROSS JOIN LATERAL (SELECT coalesce(ri.status, 'open') AS status) s;

-- Completion = remedied findings / findings. report_status: how the
-- remediation report's obligation went (cchc_status), NULL without one.
CREATE VIEW cchc_remediation AS
SELECT i.code AS inspection, i.unit_code, u.name AS unit_name, i.team, i.inspected_on,
       i.conclusion_number, i.conclusion_date, i.remediation_due, i.status AS inspection_status,
       f.findings, f.remedied, f.in_progress, f.not_remedied, f.open,
       cchc_rate(f.remedied, f.findings) AS completion_rate,
       f.report_id, f.revision, f.received_at,
       st.status AS report_status, cchc_label_vi(st.status) AS report_status_vi, st.wd_late
FROM inspections i
JOIN units u ON u.code = i.unit_code
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
    WHERE s.content_kind = 'remediation' AND s.subject = i.code AND s.unit_code = i.unit_code
    ORDER BY s.expectation_id LIMIT 1) st ON true;

-- ---- the plan's tasks -------------------------------------------------------------------------
--
-- Per task and lead unit (its expectation of a task_progress type): the
-- latest accepted progress report, and the state (DOMAIN.md section 7). A
-- progress report meets the duty to report, never the task itself:
--
--   state         when
--   done          the unit's latest revision received on or before the due date
--                 (Vietnam civil date) says done
--   overdue       the due date has passed without that (even if done later)
--   exempt        an operator exempted the unit
--   blocked       not yet due, the latest report says blocked
--   in_progress   not yet due, the latest report says in progress
--   not_reported  not yet due, no report yet
CREATE VIEW cchc_task_units AS
SELECT k.code AS task_code, k.title, k.index_name, k.dimension, k.target, k.due,
       e.unit_code, u.name AS unit_name, e.status AS expectation_status,
       lp.status AS progress_status, lp.percent, lp.result, lp.report_id, lp.received_at,
       bd.status = 'done' AS done_by_due, st.state, cchc_label_vi(st.state) AS state_vi
FROM plan_tasks k
JOIN expectations e ON e.subject = k.code AND e.period = '' AND e.status <> 'cancelled'
JOIN report_types t ON t.code = e.type_code AND t.content_kind = 'task_progress'
JOIN units u ON u.code = e.unit_code
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

-- A task is done when every lead unit (not exempt) has done it, overdue when
-- its due date has passed otherwise, else in progress. done_rate: lead units
-- done / lead units not exempt; avg_percent: of the latest reports.
CREATE VIEW cchc_tasks AS
SELECT k.code AS task_code, k.title, k.index_name, k.dimension, k.target, k.due,
       array_to_string(k.lead, ',') AS lead, array_to_string(k.support, ',') AS support,
       c.leads, c.done, c.overdue, c.in_progress, c.not_reported, c.exempt,
       cchc_rate(c.done, c.leads) AS done_rate, c.avg_percent,
       s.state, cchc_label_vi(s.state) AS state_vi
FROM plan_tasks k
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.state <> 'exempt') AS leads,
           count(*) FILTER (WHERE x.state = 'done') AS done,
           count(*) FILTER (WHERE x.state = 'overdue') AS overdue,
           count(*) FILTER (WHERE x.state IN ('in_progress', 'blocked')) AS in_progress,
           count(*) FILTER (WHERE x.state = 'not_reported') AS not_reported,
           count(*) FILTER (WHERE x.state = 'exempt') AS exempt,
           round(avg(x.percent), 1) AS avg_percent
    FROM cchc_task_units x WHERE x.task_code = k.code) c
CROSS JOIN LATERAL (
    SELECT CASE WHEN c.leads > 0 AND c.done = c.leads THEN 'done'
                WHEN k.due < cchc_today() THEN 'overdue'
                ELSE 'in_progress' END AS state) s;

CREATE VIEW cchc_task_dimensions AS
SELECT k.index_name, k.dimension, k.target, count(*) AS tasks,
       count(*) FILTER (WHERE k.state = 'done') AS done,
       count(*) FILTER (WHERE k.state = 'overdue') AS overdue,
       count(*) FILTER (WHERE k.state = 'in_progress') AS in_progress,
       cchc_rate(count(*) FILTER (WHERE k.state = 'done'), count(*)) AS done_rate,
       round(avg(k.avg_percent), 1) AS avg_percent
FROM cchc_tasks k
GROUP BY k.index_name, k.dimension, k.target;

-- ---- agents ---------------------------------------------------------------------------------
--
-- Sync health per unit. silent_since: the last contact, when the scheduler
-- has raised agent.silent for it (after [scheduler] silent_hours without
-- contact); refused_open: reports refused that no accepted revision of the
-- same report has answered since (a later receipt or a higher revision).
CREATE VIEW cchc_agents_all AS
SELECT u.code AS unit_code, u.name AS unit_name, u.kind AS unit_kind, u.valid_from, u.valid_to,
       (u.valid_from <= cchc_today() AND (u.valid_to IS NULL OR u.valid_to >= cchc_today()))
           AS is_open,
       c.last_seen, c.agent_version, c.queue_depth, c.clock_skew_ms, c.clock_checked_at,
       CASE WHEN c.last_seen IS NOT NULL AND EXISTS (
                SELECT 1 FROM notifications n
                WHERE n.dedup_key = 'agent.silent:' || u.code || ':'
                                    || cchc_ymd(cchc_vn_date(c.last_seen)))
            THEN c.last_seen END AS silent_since,
       (SELECT count(*) FROM agent_keys k
        WHERE k.unit_code = u.code AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > cchc_now())) AS active_keys,
       (SELECT count(*) FROM reports x
        WHERE x.unit_code = u.code AND x.status = 'rejected'
          AND NOT EXISTS (SELECT 1 FROM reports y
                          WHERE y.report_type = x.report_type AND y.unit_code = x.unit_code
                            AND y.period = x.period AND y.subject = x.subject
                            AND y.status IN ('accepted', 'superseded')
                            AND (y.received_at > x.received_at
                                 OR y.revision >= x.revision))) AS refused_open
FROM units u
LEFT JOIN unit_contacts c ON c.unit_code = u.code;

CREATE VIEW cchc_agents AS
SELECT * FROM cchc_agents_all WHERE is_open;

-- Readable by viewers (011 set default privileges for the owner that ran it;
-- granted again here whoever runs this one).
GRANT SELECT ON cchc_status, cchc_completeness, cchc_latest_reports, cchc_dossiers,
    cchc_dossier_units, cchc_dossier_fields, cchc_dossier_district, cchc_overdue_dossiers,
    cchc_remediation_findings, cchc_remediation, cchc_task_units, cchc_tasks,
    cchc_task_dimensions, cchc_agents_all, cchc_agents TO cchc_viewer;
GRANT EXECUTE ON FUNCTION cchc_now(), cchc_today(), cchc_rate(numeric, numeric),
    cchc_label_vi(text) TO cchc_viewer;
