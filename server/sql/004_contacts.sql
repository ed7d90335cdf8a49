-- 004_contacts: when each unit's agent was last heard from, and what it said.
--
-- Contact bookkeeping moves out of units: it is written by the server on
-- every Hello (and last_seen, at most every 10 s, on any message), which is
-- not an operator's change to a unit, and should not rewrite a units row.
-- The audit trigger's special case for units.last_seen is moot from here on.

CREATE TABLE unit_contacts (
    unit_code     text PRIMARY KEY REFERENCES units (code),
    last_seen     timestamptz NOT NULL,
    agent_version text NOT NULL DEFAULT '',
    queue_depth   bigint NOT NULL DEFAULT 0,  -- reports the agent had not delivered
    last_seq      bigint NOT NULL DEFAULT 0   -- last notification sequence it holds
);

INSERT INTO unit_contacts (unit_code, last_seen)
SELECT code, last_seen FROM units WHERE last_seen IS NOT NULL;

ALTER TABLE units DROP COLUMN last_seen;
