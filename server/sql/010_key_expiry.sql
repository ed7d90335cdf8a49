-- Key expiry: an agent key may be given an end (key rotation leaves the old
-- key working for an overlap). A key is valid when revoked_at IS NULL AND
-- (expires_at IS NULL OR expires_at > now). NULL: no expiry.
ALTER TABLE agent_keys ADD COLUMN expires_at timestamptz;
