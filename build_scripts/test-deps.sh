#!/bin/sh
# What the test suite needs from the system: PostgreSQL's server binaries, for the national
# service's tests (tests/pg.py starts a throwaway cluster from them). Installs only what is
# missing, and only where it can (Debian/Ubuntu as root); otherwise it says what is missing.
set -u
[ "$(uname -s)" = "Linux" ] || exit 0
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && exit 0
command -v initdb >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
else
  echo "The national service's tests need PostgreSQL's server (Debian: apt-get install postgresql)."
fi
