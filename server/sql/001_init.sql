-- 001_init: units, agent keys, reports.
--
-- Enumerations are text with CHECK constraints so psql users can read them.
-- Units are data, never code: a unit can close (valid_to) and name a successor.

CREATE TABLE units (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('district', 'office', 'commune', 'town',
                                              'ward', 'province', 'other')),
    parent      text REFERENCES units (code) DEFERRABLE INITIALLY DEFERRED,
    valid_from  date NOT NULL,
    valid_to    date,
    successor   text REFERENCES units (code) DEFERRABLE INITIALLY DEFERRED,
    last_seen   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

-- CURVE public keys of agents (Z85, 40 characters). A key belongs to one
-- unit; a revoked key stays for the record.
CREATE TABLE agent_keys (
    id          bigserial PRIMARY KEY,
    unit_code   text NOT NULL REFERENCES units (code),
    public_key  text NOT NULL UNIQUE CHECK (length(public_key) = 40),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX agent_keys_unit ON agent_keys (unit_code);

-- One row per accepted report message. (unit_code, agent_epoch, msg_id) is
-- the idempotency key: a message delivered twice is stored once.
-- payload is the packed cchc.v1.Report exactly as decoded; body is its JSON.
CREATE TABLE reports (
    id           bigserial PRIMARY KEY,
    unit_code    text NOT NULL REFERENCES units (code),
    agent_epoch  bigint NOT NULL,
    msg_id       bigint NOT NULL CHECK (msg_id > 0),
    report_type  text NOT NULL CHECK (length(report_type) BETWEEN 1 AND 64),
    content_kind text NOT NULL CHECK (content_kind IN ('periodic', 'remediation',
                                                       'task_progress')),
    period       text NOT NULL DEFAULT '',
    revision     integer NOT NULL CHECK (revision >= 0),
    subject      text NOT NULL DEFAULT '',  -- inspection or task code, if any
    sent_at      timestamptz,
    sealed_at    timestamptz,
    received_at  timestamptz NOT NULL DEFAULT now(),
    payload      bytea NOT NULL,
    body         jsonb NOT NULL,
    UNIQUE (unit_code, agent_epoch, msg_id)
);
CREATE INDEX reports_unit_received ON reports (unit_code, received_at);
