-- The audit log (audit.py): who did what to which organisation, and what came of it. Rows are
-- written by the gateway's edge (every mutating request, every refused one) and the admin CLI.
--
-- Append-only for the application: the triggers below refuse UPDATE, DELETE and TRUNCATE for
-- every role, the table's owner (the gateway's own database role) included, and the privileges
-- are revoked as well. Retention is an operator's job, done as a role that may alter the table:
--   ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
--   DELETE FROM audit_log WHERE occurred_at < now() - interval '400 days';
--   ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
-- No foreign key to tenants: the rows outlive the organisation, and refusals before
-- authentication (401) have no tenant.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    tenant_id      text,
    actor_key_id   uuid,
    actor          text NOT NULL DEFAULT '',
    action         text NOT NULL,
    target         text NOT NULL DEFAULT '',
    result         text NOT NULL,
    client_address text,
    request_id     text,
    details        jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_log_tenant_occurred_idx ON audit_log (tenant_id, occurred_at);
-- GET /v1/audit pages by id within one organisation, newest first.
CREATE INDEX audit_log_tenant_id_idx ON audit_log (tenant_id, id);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
