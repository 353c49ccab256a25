#!/bin/sh
# The national service's database on a fresh Debian/Ubuntu machine, from the distribution:
# installs PostgreSQL where it is missing, starts the cluster, and makes a role for the user
# who runs this (a superuser, for a trial: it owns the schema the service migrates) and the
# database `onesend`. Safe to run again. As root, or as a user who may sudo.
set -eu
as_root() { if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
me="$(id -un)"
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
as_root service postgresql start
for _ in 1 2 3 4 5 6 7 8 9 10; do
  as_postgres psql -qtAc "SELECT 1" >/dev/null 2>&1 && break
  sleep 1
done
if [ "$(as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = '$me'")" != "1" ]; then
  as_postgres createuser --superuser "$me"
fi
if [ "$(as_postgres psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'onesend'")" != "1" ]; then
  as_postgres createdb --owner "$me" onesend
fi
echo "PostgreSQL is running; the database is postgresql:///onesend?host=/var/run/postgresql"
