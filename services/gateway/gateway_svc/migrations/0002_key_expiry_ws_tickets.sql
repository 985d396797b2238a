-- Keys may expire; a key without expires_at never does. Revocation was already a column.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
CREATE INDEX api_keys_prefix_idx ON api_keys (prefix);

-- WebSocket tickets: single-use, short-lived stand-ins for a key, so no key travels in a URL.
-- Only a SHA-256 is stored, like keys; a ticket is deleted when it is used.
CREATE TABLE ws_tickets (
    ticket_hash bytea PRIMARY KEY,
    key_id      uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL
);

CREATE INDEX ws_tickets_expires_idx ON ws_tickets (expires_at);
