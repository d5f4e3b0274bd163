-- The contact form's messages: each row a tenant's, held to it by forced row-level security as posts are.
-- No visitor address is kept: `client_hash` is a keyed hash of it (HMAC-SHA256 with the plugin's secret, cut to
-- 32 hex digits), enough to see that two messages came from one address, not to learn the address.
CREATE TABLE contact_form_messages (
    tenant_id   text        NOT NULL CHECK (tenant_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    id          bigserial   NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    message     text        NOT NULL CHECK (length(message) BETWEEN 1 AND 20000),
    client_hash text        CHECK (client_hash ~ '^[0-9a-f]{32}$'),
    user_agent  text        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 300),
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX contact_form_messages_newest ON contact_form_messages (tenant_id, created_at DESC, id DESC);

ALTER TABLE contact_form_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_form_messages FORCE ROW LEVEL SECURITY;

CREATE POLICY contact_form_messages_tenant_isolation ON contact_form_messages
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));

GRANT SELECT, INSERT, DELETE ON contact_form_messages TO tenantedge_app;
GRANT USAGE ON SEQUENCE contact_form_messages_id_seq TO tenantedge_app;
