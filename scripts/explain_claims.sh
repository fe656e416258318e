#!/usr/bin/env bash
# Shows, with EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, what the overlap query
# on slot claims reads for a window a few weeks ahead, with one staff member's
# history of H past claims and then 10 x H, under the index the migrations
# create (led by block_end) and under the one they replaced (led by
# block_start). Usage:
#   scripts/explain_claims.sh [admin-url] [history]
# e.g. scripts/explain_claims.sh postgres://postgres@127.0.0.1:5432/postgres 2500
# It builds the server (debug), migrates a scratch database, and drops it.
set -euo pipefail
cd "$(dirname "$0")/.."
ADMIN_URL="${1:-postgres://postgres@127.0.0.1:5432/postgres}"
HISTORY="${2:-2500}"
DB="askpro_explain_$$"
BASE_URL="${ADMIN_URL%/*}"
psql "$ADMIN_URL" -qc "CREATE DATABASE $DB"
trap 'psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT
cargo build -q --bin askpro
ASKPRO_DATABASE_URL="$BASE_URL/$DB" target/debug/askpro migrate >/dev/null 2>&1

run() { PGOPTIONS="-c client_min_messages=warning" psql "$BASE_URL/$DB" -qAt -v ON_ERROR_STOP=1 "$@"; }

run <<'SQL'
INSERT INTO tenants VALUES ('00000000-0000-7000-8000-000000000001', 'Explain', 'Europe/Berlin', 'DE', 1, now(), now());
INSERT INTO branches VALUES ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000002',
  'Branch', 'Europe/Berlin', 'DE', '', 1, now(), now(), NULL);
INSERT INTO staff VALUES ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000003',
  '00000000-0000-7000-8000-000000000002', 'Anna', '', 1, now(), now(), NULL);
SQL

# Claims of one staff member, one an hour back to back: `count` of them ending
# before now (history), and 30 days ahead (what a booking competes with).
insert_range() { # from-hours-ago to-hours-ago (exclusive end, step 1 h)
  run -c "INSERT INTO slot_claims
    SELECT '00000000-0000-7000-8000-000000000001', gen_random_uuid(), '00000000-0000-7000-8000-000000000003',
           'appointment', t, t + interval '50 minutes', true, NULL
    FROM generate_series(date_trunc('hour', now()) - interval '$1 hours',
                         date_trunc('hour', now()) - interval '$2 hours', interval '1 hour') AS t" >/dev/null
}
# The busy-time query of a calendar (store::slot_claims::busy), for a week 40 days ahead.
QUERY="SELECT staff_id, block_start, block_end FROM slot_claims
  WHERE tenant_id = '00000000-0000-7000-8000-000000000001'
    AND staff_id IN ('00000000-0000-7000-8000-000000000003') AND active = true
    AND block_start < now() + interval '47 days' AND block_end > now() + interval '40 days'"
explain() {
  run -c "ANALYZE slot_claims" >/dev/null
  local plan
  # One staff member's table is small enough for a sequential scan; a real
  # one (many staff) is not, so the planner is kept to the index here.
  plan="$(run -c "SET enable_seqscan = off" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) $QUERY")"
  local index buffers
  index="$(grep -oE '(using|on) slot_claims[a-z_]*' <<<"$plan" | head -1 | cut -d' ' -f2 || true)"
  buffers="$(grep -oE 'Buffers: shared( hit=[0-9]+)?( read=[0-9]+)?' <<<"$plan" | head -1 || true)"
  printf '%-10s %9s past claims  %-26s %s\n' "$1" "$2" "${index:-seq scan}" "$buffers"
  if [ -n "${VERBOSE:-}" ]; then echo "$plan"; fi
}
with_index() {
  if [ "$1" = end ]; then
    run -c "DROP INDEX IF EXISTS slot_claims_staff_idx; CREATE INDEX IF NOT EXISTS slot_claims_staff_end_idx ON slot_claims (tenant_id, staff_id, block_end, block_start)" >/dev/null
  else
    run -c "DROP INDEX IF EXISTS slot_claims_staff_end_idx; CREATE INDEX IF NOT EXISTS slot_claims_staff_idx ON slot_claims (tenant_id, staff_id, block_start, block_end)" >/dev/null
  fi
}

insert_range 0 "-$((30 * 24))"            # the next 30 days
insert_range "$HISTORY" 1                 # history: HISTORY hours back
for index in end start; do with_index "$index"; explain "$index" "$HISTORY"; done
insert_range "$((10 * HISTORY))" "$((HISTORY + 1))"   # history x 10
for index in end start; do with_index "$index"; explain "$index" "$((10 * HISTORY))"; done
