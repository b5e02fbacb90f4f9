#!/bin/sh
# Run once by the postgres image on an empty data directory: one database per service, as `make up` does locally.
# `satupintu-<service> migrate` (the compose service <service>-migrate) then creates the tables and the service's
# own role, as this image's user (a superuser here; in a real installation the databases' owner with CREATEROLE).
set -eu
for service in intake routing agency notification audit mall; do
    echo "creating database satupintu_${service}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -c "CREATE DATABASE \"satupintu_${service}\""
done
