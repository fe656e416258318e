#!/usr/bin/env bash
# Shows, with EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, that the range queries
# over appointments read the same number of buffers whatever the history:
# one staff member and one customer get an appointment every hour for the
# next 30 days and H hours back, then 10 x H hours back, and each query runs
# under both histories. Usage:
#   scripts/explain_history.sh [admin-url] [history-hours]
# e.g. scripts/explain_history.sh postgres://postgres@127.0.0.1:5432/postgres 2500
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

T="'00000000-0000-7000-8000-000000000001'"
B="'00000000-0000-7000-8000-000000000002'"
S="'00000000-0000-7000-8000-000000000003'"
V="'00000000-0000-7000-8000-000000000004'"
C="'00000000-0000-7000-8000-000000000005'"
run <<SQL
INSERT INTO tenants VALUES ($T, 'Explain', 'Europe/Berlin', 'DE', 1, now(), now());
INSERT INTO branches VALUES ($T, $B, 'Branch', 'Europe/Berlin', 'DE', '', 1, now(), now(), NULL);
INSERT INTO staff VALUES ($T, $S, $B, 'Anna', '', 1, now(), now(), NULL);
INSERT INTO services VALUES ($T, $V, 'Cut', '', 50, 0, 10, 0, 100000, 15, 1, now(), now(), NULL);
INSERT INTO customers VALUES ($T, $C, '+4915100000001', 'Explain', '', '', 1, now(), now(), NULL);
SQL

# One appointment an hour, 50 minutes long, from $1 hours ago to $2 hours ago.
insert_range() {
  run -c "INSERT INTO appointments
    SELECT $T, gen_random_uuid(), $B, $V, $S, $C, t, t + interval '50 minutes', 'confirmed', 'frontend',
           '', '', '', '', 1, now(), now()
    FROM generate_series(date_trunc('hour', now()) - interval '$1 hours',
                         date_trunc('hour', now()) - interval '$2 hours', interval '1 hour') AS t" >/dev/null
}

# The statements as the repositories send them (store::appointments).
declare -A QUERIES=(
  # ListAppointments of one staff member, 30 days from 10 days ahead, a page of 50 (list).
  [list_of_staff]="SELECT * FROM appointments WHERE tenant_id = $T
      AND end_time > now() + interval '10 days' AND start_time > now() + interval '9 days'
      AND start_time < now() + interval '40 days' AND staff_id IN ($S)
      ORDER BY start_time, id LIMIT 51"
  # ListAppointments of the whole tenant, the same range (list).
  [list_of_tenant]="SELECT * FROM appointments WHERE tenant_id = $T
      AND end_time > now() + interval '10 days' AND start_time > now() + interval '9 days'
      AND start_time < now() + interval '40 days' ORDER BY start_time, id LIMIT 51"
  # A booking's customer-overlap check, 20 days ahead (refuse_overlap_of_customer_at_commit).
  [customer_overlap]="SELECT id FROM appointments WHERE tenant_id = $T AND customer_id = $C
      AND status IN ('pending', 'confirmed') AND start_time < now() + interval '20 days 30 minutes'
      AND end_time > now() + interval '20 days' AND start_time > now() + interval '19 days' LIMIT 1"
  # A staff member's upcoming appointments (upcoming_of_staff).
  [upcoming_of_staff]="SELECT id, start_time, end_time FROM appointments WHERE tenant_id = $T AND staff_id = $S
      AND status IN ('pending', 'confirmed') AND end_time > now() AND start_time > now() - interval '1 day'
      ORDER BY start_time, id"
)
explain() {
  run -c "ANALYZE appointments" >/dev/null
  local name plan buffers index
  for name in list_of_staff list_of_tenant customer_overlap upcoming_of_staff; do
    # One staff member's table is small enough for a sequential scan; a real
    # one (many staff, many tenants) is not, so the planner is kept to indexes.
    plan="$(run -c "SET enable_seqscan = off" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) ${QUERIES[$name]}")"
    index="$(grep -oE 'using appointments[a-z_]*' <<<"$plan" | head -1 | cut -d' ' -f2 || true)"
    buffers="$(grep -oE 'Buffers: shared( hit=[0-9]+)?( read=[0-9]+)?' <<<"$plan" | head -1 || true)"
    printf '%-18s %7s past hours  %-26s %s\n' "$name" "$1" "${index:-?}" "$buffers"
    if [ -n "${VERBOSE:-}" ]; then echo "$plan"; fi
  done
}
insert_range 0 "-$((30 * 24))"                           # the next 30 days
insert_range "$HISTORY" 1                                # history: HISTORY hours back
explain "$HISTORY"
insert_range "$((10 * HISTORY))" "$((HISTORY + 1))"      # history x 10
explain "$((10 * HISTORY))"
