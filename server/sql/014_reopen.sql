-- 014_reopen: locking a period to revisions and reopening it, audited.
--
-- E006 (common/cchc_validate.c) refuses a revision of a report when its
-- period is locked (periods.locked_at) or when the type's expiry_days after
-- the due date have passed, and tells the officer to ask Home Affairs to
-- reopen it. An operator now can:
--
--   cchc period lock TYPE PERIOD --reason TEXT
--       sets periods.locked_at and lock_reason, and ends (ended_at) every
--       reopening of the period still running;
--   cchc period reopen TYPE PERIOD [--unit U] --until DAY --reason TEXT
--       inserts a row below: until that day (inclusive, Vietnam civil date)
--       E006 lets revisions of the period through, the lock and the expiry
--       alike, for unit U or, with unit_code NULL, for every unit.
--
-- A reopening's lifecycle (rows are never deleted by operators: they are the
-- record of who let what through, and why):
--
--   state     event                                  next
--   --------  -------------------------------------  --------------------
--   (none)    cchc period reopen                     running
--   running   the day after `until` begins           over (by itself)
--   running   cchc period lock of the same period    ended (ended_at set)
--
-- Both tables are audited by cchc_audit() (002), whose NOTIFY cchc_meta makes
-- the server tell agents to sync again: that is how an agent learns of it.
-- The unit's metadata (cchc_unit_metadata, replaced below) carries on each
-- entry of "revisions" a reopening applies to (not ended: the latest until)
-- "reopened_until": "YYYY-MM-DD". Whether that day has passed is judged by
-- validation against its own today (the injectable clock), not here: the
-- database's current_date is not the clock the agent and server judge by.

ALTER TABLE periods
    ADD COLUMN lock_reason text
        CHECK (lock_reason IS NULL OR char_length(btrim(lock_reason)) BETWEEN 3 AND 500);

CREATE TABLE period_reopenings (
    id          bigserial PRIMARY KEY,
    type_code   text NOT NULL,
    period      text NOT NULL,
    unit_code   text REFERENCES units (code),   -- NULL: every unit
    until       date NOT NULL,                  -- inclusive, Asia/Ho_Chi_Minh
    reason      text NOT NULL CHECK (char_length(btrim(reason)) BETWEEN 3 AND 500),
    created_by  text NOT NULL DEFAULT session_user,
    created_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    FOREIGN KEY (type_code, period) REFERENCES periods (type_code, period) ON DELETE CASCADE,
    CHECK (ended_at IS NULL OR ended_at >= created_at)
);
CREATE INDEX period_reopenings_open ON period_reopenings (type_code, period)
    WHERE ended_at IS NULL;

CREATE TRIGGER period_reopenings_audit AFTER INSERT OR UPDATE OR DELETE ON period_reopenings
    FOR EACH ROW EXECUTE FUNCTION cchc_audit();

-- Viewers read it (also given by 011's default privileges, when the same
-- owner runs this). Operators insert a reopening and end one, nothing else:
-- who and when are the database's (created_by, created_at), and a reason or
-- a day once written stays as the audit log saw it.
GRANT SELECT ON period_reopenings TO cchc_viewer;
GRANT SELECT ON SEQUENCE period_reopenings_id_seq TO cchc_viewer;
GRANT INSERT (type_code, period, unit_code, until, reason) ON period_reopenings TO cchc_operator;
GRANT UPDATE (ended_at) ON period_reopenings TO cchc_operator;
GRANT USAGE ON SEQUENCE period_reopenings_id_seq TO cchc_operator;

-- ---- the unit's metadata, with reopened_until ---------------------------------------------
-- As in 003, but for one addition: an entry of "revisions" that a running
-- reopening applies to gets "reopened_until". Every other key is exactly as
-- before, and an entry without a reopening is unchanged, so the document's
-- text (whose hash is its version) does not change for units nothing was
-- reopened for.

CREATE OR REPLACE FUNCTION cchc_unit_metadata(p_unit text) RETURNS jsonb
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
        'settings', jsonb_build_object('apology_slip', 'error'));
END $$;
