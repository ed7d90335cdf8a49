-- 005_deadlines: expectations (who must report what by when), notifications
-- (rows first, sequence in commit order), silences, subscribers.
--
-- Expectation lifecycle (DOMAIN.md section 3):
--   expected -> on_time | late      (a report accepted on/before or after due + grace)
--   expected -> overdue -> late     (the scheduler marks it; the report arrives later)
--   expected | overdue -> exempt    (an operator: cchc exempt, audited)
--   expected | overdue -> cancelled (the unit closed, the type unassigned)
CREATE TABLE expectations (
    id             bigserial PRIMARY KEY,
    type_code      text NOT NULL REFERENCES report_types (code) ON DELETE CASCADE,
    unit_code      text NOT NULL REFERENCES units (code),
    period         text NOT NULL DEFAULT '',
    subject        text NOT NULL DEFAULT '',   -- inspection or task code
    due            date NOT NULL,
    grace_days     integer NOT NULL DEFAULT 0 CHECK (grace_days >= 0),
    status         text NOT NULL DEFAULT 'expected'
                   CHECK (status IN ('expected', 'on_time', 'late', 'overdue', 'exempt',
                                     'cancelled')),
    report_id      bigint REFERENCES reports (id),
    met_at         timestamptz,
    basis          text CHECK (basis IN ('received', 'sealed')),
    exempt_reason  text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (type_code, unit_code, period, subject)
);
CREATE INDEX expectations_open ON expectations (due) WHERE status IN ('expected', 'overdue');
CREATE INDEX expectations_unit ON expectations (unit_code);

-- One counter row: every transaction that inserts notifications takes its
-- row lock (trigger below, or the scheduler's bulk insert, which numbers a
-- whole tick at once at its end) and holds it to commit, so sequence numbers
-- are handed out in commit order and without gaps. Inserts must not be discarded
-- after the trigger ran (no ON CONFLICT DO NOTHING: filter with NOT EXISTS on
-- dedup_key instead), or a number would be lost.
CREATE TABLE notification_counter (
    id        integer PRIMARY KEY CHECK (id = 1),
    last_seq  bigint NOT NULL
);
INSERT INTO notification_counter VALUES (1, 0);

CREATE TABLE notifications (
    seq         bigint PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN (
                    'deadline.approaching', 'deadline.today', 'report.overdue',
                    'report.escalated', 'report.accepted', 'report.rejected',
                    'report.resolved', 'remediation.due', 'remediation.overdue',
                    'task.due', 'task.overdue', 'agent.silent', 'digest.overdue')),
    unit_code   text NOT NULL,   -- recipient: a unit code or a group (@home_affairs, @leadership)
    about       text,            -- the unit the facts are about (NULL for digests)
    topic       text NOT NULL,   -- "<kind>.<unit_code>"
    dedup_key   text NOT NULL UNIQUE,
    text_vi     text NOT NULL,
    text_en     text NOT NULL,
    facts       jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_unit ON notifications (unit_code, seq);
-- Byte order, for "has any notice with this key prefix been sent" (the
-- scheduler's catch-up after a day without a tick): cchc_notice_sent().
CREATE INDEX notifications_dedup_c ON notifications ((dedup_key COLLATE "C"));

-- True when a notification whose dedup_key starts with p_prefix exists. A
-- byte-order range on notifications_dedup_c (usable with a prefix known only
-- at run time, unlike LIKE), then the exact prefix test.
CREATE FUNCTION cchc_notice_sent(p_prefix text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM notifications x
                   WHERE (x.dedup_key COLLATE "C") >= (p_prefix COLLATE "C")
                     AND (x.dedup_key COLLATE "C") < ((p_prefix || chr(1114111)) COLLATE "C")
                     AND left(x.dedup_key, length(p_prefix)) = p_prefix)
$$;

CREATE FUNCTION cchc_notification_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NULL THEN
        UPDATE notification_counter SET last_seq = last_seq + 1 WHERE id = 1
            RETURNING last_seq INTO NEW.seq;
    END IF;
    NEW.topic := NEW.kind || '.' || NEW.unit_code;
    RETURN NEW;
END $$;
CREATE TRIGGER notifications_seq BEFORE INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION cchc_notification_seq();

CREATE FUNCTION cchc_notifications_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'notifications are append-only';
END $$;
CREATE TRIGGER notifications_append_only BEFORE UPDATE OR DELETE ON notifications
    FOR EACH ROW EXECUTE FUNCTION cchc_notifications_immutable();

-- An operator silences a unit and/or a kind until a date, with a reason.
CREATE TABLE silences (
    id          bigserial PRIMARY KEY,
    unit_code   text REFERENCES units (code),
    kind        text,
    until       date NOT NULL,
    reason      text NOT NULL CHECK (length(reason) >= 3),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT session_user,
    removed_at  timestamptz,
    CHECK (unit_code IS NOT NULL OR kind IS NOT NULL)
);

-- Subscribers: a third kind of principal; may subscribe and replay within
-- their topic prefixes, nothing else.
CREATE TABLE subscribers (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    public_key  text NOT NULL UNIQUE CHECK (length(public_key) = 40),
    topics      text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TRIGGER silences_audit AFTER INSERT OR UPDATE OR DELETE ON silences
    FOR EACH ROW EXECUTE FUNCTION cchc_audit();
CREATE TRIGGER subscribers_audit AFTER INSERT OR UPDATE OR DELETE ON subscribers
    FOR EACH ROW EXECUTE FUNCTION cchc_audit();
