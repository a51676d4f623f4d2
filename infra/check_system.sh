#!/usr/bin/env bash
# Checks (and where possible installs) the system programs the local stack needs.
set -euo pipefail
missing=()
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$pg_bin/initdb" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing PostgreSQL 15 (apt-get)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  fi
  [ -x "$pg_bin/initdb" ] || missing+=("PostgreSQL 15 server binaries in $pg_bin (Debian: postgresql-15)")
fi
# The emulator's jar: PUBSUB_EMULATOR_JAR, or under the SDK root `gcloud info` reports
# (Debian package, cloud-sdk images, installer): infra/pubsub_emulator.py decides.
if ! emulator_problem="$("${PYTHON:-python3}" "$(dirname "$0")/pubsub_emulator.py" 2>&1 >/dev/null)"; then
  missing+=("$emulator_problem")
fi
if ! command -v java >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing a Java runtime for the Pub/Sub emulator (apt-get)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
fi
command -v java >/dev/null || missing+=("a Java runtime for the Pub/Sub emulator (Debian: default-jre-headless)")
# The review console's browser tests drive Debian's chromium through Playwright (Playwright's
# own browser download cannot reach its host here).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing chromium for the console's browser tests (apt-get)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || missing+=("Chromium for the console's browser tests, /usr/bin/chromium (Debian: chromium)")
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  missing+=("the 'postgres' system user (created by the postgresql-15 package)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  printf 'local stack prerequisites missing:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
