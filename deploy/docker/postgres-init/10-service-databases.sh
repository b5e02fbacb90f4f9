#!/bin/sh
# Run once by the postgres image on an empty data directory: one database per service, as `make up` does locally.
# `satupintu-<service> migrate` (the compose service <service>-migrate) then creates the tables and the service's
# own role, as this image's user (a superuser here; in a real installation the databases' owner with CREATEROLE).
# Keycloak gets its own database `keycloak`, owned by its own role `keycloak` with the password KEYCLOAK_DB_PASSWORD
# (postgres.env; keycloak.env gives Keycloak the same as KC_DB_PASSWORD).
set -eu
for service in intake routing agency notification audit mall payment; do
    echo "creating database satupintu_${service}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -c "CREATE DATABASE \"satupintu_${service}\""
done
echo "creating role and database keycloak"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v password="${KEYCLOAK_DB_PASSWORD:?KEYCLOAK_DB_PASSWORD is not set: run make secrets}" <<'SQL'
CREATE ROLE keycloak LOGIN PASSWORD :'password';
CREATE DATABASE keycloak OWNER keycloak;
SQL
