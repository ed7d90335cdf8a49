-- 015_refusals: principals the server refused, for operators to list.
--
-- A key that CURVE and ZAP admitted names its principal: a unit's agent, or a
-- subscriber ("sub:<name>"). What such a principal then does and may not is
-- refused by the server and, until now, only written to its log. cchc-server
-- records it here (srv_refusals.c), and `cchc refusals` lists it:
--
--   kind           what was refused                                  claimed
--   unit_mismatch  an agent's message for another unit               that unit
--   key_revoked    a message on a key revoked since its handshake    -
--   key_expired    a message, or a handshake, on an expired key      -
--   topic_outside  a subscriber's Replay of a topic outside its      that topic
--                  grant
--   not_allowed    a message the principal may not send (a           -
--                  subscriber's Report, an agent's Replay)
--
-- One row counts the refusals of one principal and kind in one minute of the
-- server's clock (cchc_clock_now_ms, injectable): a flood of them is one row
-- a minute, never a row a message. `claimed` and `message` are those of the
-- first refusal the row counts; `key_id` is agent_keys.id for an agent,
-- subscribers.id for a subscriber. The server writes rows fire and forget,
-- so a row may miss refusals when the database was down or busy.
--
-- Viewers read it; nobody but the server (the owner) writes it, so it needs
-- no audit trigger (test_roles checks that every table a role may write has
-- one).

CREATE TABLE refusals (
    id         bigserial PRIMARY KEY,
    minute     timestamptz NOT NULL,           -- the minute counted (server clock)
    first_at   timestamptz NOT NULL,
    last_at    timestamptz NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('unit_mismatch', 'key_revoked', 'key_expired',
                                             'topic_outside', 'not_allowed')),
    principal  text NOT NULL CHECK (char_length(principal) BETWEEN 1 AND 100),
    key_id     bigint,
    claimed    text CHECK (char_length(claimed) <= 200),
    message    text CHECK (char_length(message) <= 40),
    count      bigint NOT NULL CHECK (count >= 1),
    UNIQUE (minute, kind, principal),
    CHECK (first_at <= last_at)
);

-- The kinds in Vietnamese, for `cchc refusals` and for viewers in psql.
CREATE VIEW cchc_refusals AS
SELECT r.*,
       CASE r.kind
           WHEN 'unit_mismatch' THEN 'báo cáo cho đơn vị khác'
           WHEN 'key_revoked' THEN 'khoá đã thu hồi'
           WHEN 'key_expired' THEN 'khoá đã hết hạn'
           WHEN 'topic_outside' THEN 'chủ đề ngoài phạm vi được cấp'
           WHEN 'not_allowed' THEN 'loại tin không được phép'
       END AS kind_vi
FROM refusals r;

-- Readable by viewers (011's default privileges give it too, when the same
-- owner runs this); nothing for operators and admins to write.
GRANT SELECT ON refusals, cchc_refusals TO cchc_viewer;
GRANT SELECT ON SEQUENCE refusals_id_seq TO cchc_viewer;
