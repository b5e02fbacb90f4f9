#!/bin/sh
# Run once by the postgres image on an empty data directory: one database per service, as `make up` does locally.
# Each service creates its own tables at start-up; audit also creates its writer role (hence a superuser URL here).
set -eu
for service in intake routing agency notification audit mall; do
    echo "creating database satupintu_${service}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -c "CREATE DATABASE \"satupintu_${service}\""
done
