#!/bin/sh
# First start of the compose PostgreSQL: the application role, with the password from .env, before
# `tenantedge migrate` runs (the migration creates the role only where it is missing, without a password).
set -eu
psql -v ON_ERROR_STOP=1 -v password="$APP_DB_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE tenantedge_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'password';
SQL
