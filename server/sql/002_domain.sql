-- 002_domain: report types and assignments, periods, the working-day calendar,
-- report revisions with their parts, inspections and findings, the plan's
-- tasks and their progress, and the append-only audit log.
--
-- A row of `reports` is one revision of one report: accepted, rejected (kept
-- with its findings, so operators see what communes struggle with) or
-- superseded by a later accepted revision of the same (type, unit, period,
-- subject). The first accepted revision's receipt time is kept on every later
-- one (first_received_at): timeliness is judged on it.

-- ---- report types ------------------------------------------------------------
CREATE TABLE report_types (
    code             text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]{0,31}$'),
    name_vi          text NOT NULL CHECK (length(name_vi) BETWEEN 1 AND 300),
    content_kind     text NOT NULL CHECK (content_kind IN ('periodic', 'remediation',
                                                           'task_progress')),
    period_type      text NOT NULL CHECK (period_type IN ('month', 'quarter', 'half', 'nine',
                                                          'year', 'mixed', 'event', 'task')),
    periods          text[] NOT NULL DEFAULT '{}'
                     CHECK (periods <@ ARRAY['M','Q1','Q2','Q3','Q4','S1','S2','N9','Y']),
    cutoff_rule      text NOT NULL CHECK (cutoff_rule IN ('dec09', 'calendar', 'none')),
    due_rule         text NOT NULL CHECK (due_rule ~ '^(wd_after_cutoff(:[0-9]{1,3})?|day_of_month:[0-9]{1,2}|wd_after_event(:[0-9]{1,3})?|fixed(:[0-9]{4}-[0-9]{2}-[0-9]{2})?)$'),
    grace_days       integer NOT NULL DEFAULT 0 CHECK (grace_days BETWEEN 0 AND 365),
    expiry_days      integer NOT NULL DEFAULT 0 CHECK (expiry_days BETWEEN 0 AND 3650),
    timeliness_basis text NOT NULL DEFAULT 'received'
                     CHECK (timeliness_basis IN ('received', 'sealed')),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Who must submit a type: '@office', '@commune', '@town', ... (every open
-- unit of that kind), '@inspected' / '@task_lead' (decided by the event), or
-- one unit's code.
CREATE TABLE type_assignments (
    type_code  text NOT NULL REFERENCES report_types (code) ON DELETE CASCADE,
    target     text NOT NULL CHECK (target ~ '^(@(district|office|commune|town|ward|province|other|inspected|task_lead)|[a-z0-9][a-z0-9-]{0,62})$'),
    PRIMARY KEY (type_code, target)
);

-- A period of a type once something refers to it; locked_at closes it to
-- revisions (an operator's approval), reopened by clearing it (audited).
CREATE TABLE periods (
    type_code     text NOT NULL REFERENCES report_types (code) ON DELETE CASCADE,
    period        text NOT NULL CHECK (period ~ '^[0-9]{4}((Q[1-4])|(S[12])|N9|(0[1-9]|1[0-2]))?$'),
    cutoff_start  date NOT NULL,
    cutoff_end    date NOT NULL,
    due           date,
    locked_at     timestamptz,
    PRIMARY KEY (type_code, period),
    CHECK (cutoff_end >= cutoff_start)
);

-- ---- the working-day calendar --------------------------------------------------
CREATE TABLE calendar_days (
    day   date PRIMARY KEY,
    kind  text NOT NULL CHECK (kind IN ('holiday', 'swap_off', 'swap_work')),
    note  text NOT NULL DEFAULT ''
);

-- ---- report revisions ----------------------------------------------------------
ALTER TABLE reports
    ADD COLUMN status text NOT NULL DEFAULT 'accepted'
        CHECK (status IN ('accepted', 'rejected', 'superseded')),
    ADD COLUMN findings jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN first_received_at timestamptz,
    ADD COLUMN superseded_by bigint REFERENCES reports (id);
UPDATE reports SET first_received_at = received_at WHERE first_received_at IS NULL;
CREATE INDEX reports_key ON reports (report_type, unit_code, period, subject)
    WHERE status = 'accepted';
CREATE INDEX reports_status ON reports (status, received_at);

-- Form 06 figures, one row per procedure field of a periodic report.
CREATE TABLE dossier_rows (
    report_id          bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    field              text NOT NULL,
    carried_over       bigint NOT NULL CHECK (carried_over >= 0),
    new_online         bigint NOT NULL CHECK (new_online >= 0),
    new_direct_postal  bigint NOT NULL CHECK (new_direct_postal >= 0),
    resolved_early     bigint NOT NULL CHECK (resolved_early >= 0),
    resolved_on_time   bigint NOT NULL CHECK (resolved_on_time >= 0),
    resolved_late      bigint NOT NULL CHECK (resolved_late >= 0),
    pending_in_time    bigint NOT NULL CHECK (pending_in_time >= 0),
    pending_overdue    bigint NOT NULL CHECK (pending_overdue >= 0),
    comment            text NOT NULL DEFAULT '',
    PRIMARY KEY (report_id, field)
);

-- Every dossier resolved late or pending past its deadline, with its cause,
-- its remedy and the apology slip (Phiếu xin lỗi và hẹn lại ngày trả kết quả).
CREATE TABLE overdue_dossiers (
    report_id        bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    seq              integer NOT NULL,
    code             text NOT NULL,
    field            text NOT NULL,
    procedure        text NOT NULL DEFAULT '',
    received         date,
    due              date,
    resolved         date,
    cause            text NOT NULL,
    remedy           text NOT NULL,
    apology_number   text,
    apology_date     date,
    apology_new_due  date,
    PRIMARY KEY (report_id, seq)
);

-- ---- inspections -----------------------------------------------------------------
-- Lifecycle: conducted -> awaiting_remediation -> remediation_received -> closed,
-- or awaiting_remediation -> remediation_overdue -> remediation_received.
CREATE TABLE inspections (
    id                 bigserial PRIMARY KEY,
    code               text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$'),
    unit_code          text NOT NULL REFERENCES units (code),
    team               text NOT NULL CHECK (length(team) BETWEEN 1 AND 500),
    inspected_on       date NOT NULL,
    conclusion_number  text NOT NULL CHECK (length(conclusion_number) BETWEEN 1 AND 100),
    conclusion_date    date NOT NULL,
    remediation_due    date NOT NULL,
    status             text NOT NULL DEFAULT 'awaiting_remediation'
                       CHECK (status IN ('conducted', 'awaiting_remediation',
                                         'remediation_received', 'closed',
                                         'remediation_overdue')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (conclusion_date >= inspected_on),
    CHECK (remediation_due >= conclusion_date)
);
CREATE INDEX inspections_unit ON inspections (unit_code);

-- A finding's status follows the latest accepted remediation report.
CREATE TABLE inspection_findings (
    inspection_id  bigint NOT NULL REFERENCES inspections (id) ON DELETE CASCADE,
    no             integer NOT NULL CHECK (no >= 1),
    text           text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    status         text NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'remedied', 'in_progress', 'not_remedied')),
    PRIMARY KEY (inspection_id, no)
);

CREATE TABLE remediation_items (
    report_id    bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    finding_no   integer NOT NULL,
    status       text NOT NULL CHECK (status IN ('remedied', 'in_progress', 'not_remedied')),
    actions      text NOT NULL DEFAULT '',
    evidence     text[] NOT NULL DEFAULT '{}',
    cause        text NOT NULL DEFAULT '',
    plan         text NOT NULL DEFAULT '',
    expected_by  date,
    PRIMARY KEY (report_id, finding_no)
);

-- ---- the plan's task table ----------------------------------------------------------
CREATE TABLE plan_tasks (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 1000),
    index_name  text NOT NULL CHECK (index_name IN ('PAPI', 'PAR', 'SIPAS')),
    dimension   text NOT NULL CHECK (
                    (index_name = 'PAPI' AND dimension ~ '^D[1-8]$') OR
                    (index_name = 'PAR' AND dimension ~ '^L[1-8]$') OR
                    (index_name = 'SIPAS' AND dimension ~ '^S[1-5]$')),
    target      text NOT NULL CHECK (target IN ('maintain', 'improve')),
    lead        text[] NOT NULL CHECK (cardinality(lead) >= 1),
    support     text[] NOT NULL DEFAULT '{}',
    due         date NOT NULL
);

CREATE TABLE task_progress (
    report_id  bigint PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    task_code  text NOT NULL,
    status     text NOT NULL CHECK (status IN ('in_progress', 'done', 'blocked')),
    percent    integer NOT NULL CHECK (percent BETWEEN 0 AND 100),
    result     text NOT NULL DEFAULT '',
    evidence   text[] NOT NULL DEFAULT '{}'
);

-- ---- the audit log -------------------------------------------------------------------
-- Every change an operator makes, by triggers: who (the database login), when,
-- what, before and after. Append-only: updates and deletes are refused.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    db_user     text NOT NULL DEFAULT session_user,
    table_name  text NOT NULL,
    op          text NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE')),
    before      jsonb,
    after       jsonb
);

CREATE FUNCTION cchc_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION cchc_audit_refuse();

-- Contact bookkeeping (units.last_seen) is not an operator's change: it is
-- neither audited nor announced.
CREATE FUNCTION cchc_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    a jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
BEGIN
    IF TG_OP = 'UPDATE' AND (b - 'last_seen') = (a - 'last_seen') THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit_log (table_name, op, before, after) VALUES (TG_TABLE_NAME, TG_OP, b, a);
    -- The server recomputes what derives from these facts and tells agents.
    PERFORM pg_notify('cchc_meta', TG_TABLE_NAME);
    RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['units', 'agent_keys', 'report_types', 'type_assignments',
                             'periods', 'calendar_days', 'inspections',
                             'inspection_findings', 'plan_tasks'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION cchc_audit()', t || '_audit', t);
    END LOOP;
END $$;
