-- Blog posts of every tenant in one table, kept apart by row-level security.
--
-- The application connects as tenantedge_app: not the owner of any table, not a superuser, not BYPASSRLS,
-- so the policies below always apply to it. Each transaction names its tenant with
-- set_config('app.tenant_id', $1, true); with none set, NULLIF(...) is NULL and every row is invisible.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenantedge_app') THEN
        CREATE ROLE tenantedge_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;

CREATE TABLE posts (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    text        NOT NULL CHECK (tenant_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    slug         text        NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,119}$'),
    title        text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    excerpt      text        NOT NULL DEFAULT '' CHECK (length(excerpt) <= 500),
    body         text        NOT NULL DEFAULT '' CHECK (length(body) <= 200000),
    body_format  text        NOT NULL DEFAULT 'markdown' CHECK (body_format IN ('markdown', 'html')),
    tags         text[]      NOT NULL DEFAULT '{}',
    status       text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    author       text        NOT NULL DEFAULT '' CHECK (length(author) <= 120),
    published_at timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    version      integer     NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, slug),
    CHECK (status = 'draft' OR published_at IS NOT NULL)
);

-- "The latest N published posts of a tenant" reads this index in order and stops after N.
CREATE INDEX posts_latest_published ON posts (tenant_id, published_at DESC, id) WHERE status = 'published';

ALTER TABLE posts ENABLE ROW LEVEL SECURITY;
ALTER TABLE posts FORCE ROW LEVEL SECURITY;

CREATE POLICY posts_tenant_isolation ON posts
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));

GRANT USAGE ON SCHEMA public TO tenantedge_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON posts TO tenantedge_app;
