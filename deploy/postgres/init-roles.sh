#!/bin/sh
# One PostgreSQL role per service, owning only its own database, so no service connects as
# the superuser and none can read another's data. The postgres image runs this once, on an
# empty volume, as the superuser (docker-compose.yml mounts it into
# /docker-entrypoint-initdb.d); each service then applies its own migrations to its own
# database. A test (router/stack/tests/least_privilege.rs) runs this same script against a
# real server.
#
# Environment: PRODUCTS_DB_PASSWORD, ORDERS_DB_PASSWORD, PAYMENTS_DB_PASSWORD (required);
# COMMERCE_DB_SUFFIX appends to every role and database name (tests; empty otherwise).
set -eu
: "${PRODUCTS_DB_PASSWORD:?PRODUCTS_DB_PASSWORD is required}"
: "${ORDERS_DB_PASSWORD:?ORDERS_DB_PASSWORD is required}"
: "${PAYMENTS_DB_PASSWORD:?PAYMENTS_DB_PASSWORD is required}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v suffix="${COMMERCE_DB_SUFFIX:-}" \
  -v products_password="$PRODUCTS_DB_PASSWORD" \
  -v orders_password="$ORDERS_DB_PASSWORD" \
  -v payments_password="$PAYMENTS_DB_PASSWORD" <<'SQL'
\set products products :suffix
\set orders orders :suffix
\set payments payments :suffix

-- Log-in roles without any server-wide power.
CREATE ROLE :"products" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'products_password';
CREATE ROLE :"orders" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'orders_password';
CREATE ROLE :"payments" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'payments_password';

-- Each database belongs to its service's role (which therefore owns its `public` schema
-- and creates its tables), and nobody else may even connect to it.
CREATE DATABASE :"products" OWNER :"products";
CREATE DATABASE :"orders" OWNER :"orders";
CREATE DATABASE :"payments" OWNER :"payments";
REVOKE ALL ON DATABASE :"products" FROM PUBLIC;
REVOKE ALL ON DATABASE :"orders" FROM PUBLIC;
REVOKE ALL ON DATABASE :"payments" FROM PUBLIC;
SQL
