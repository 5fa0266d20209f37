#!/usr/bin/env bash
# Measures the foundation: release binary size, cold start of `rumbo serve` (process start to
# the first 200 from /healthz, on a fresh SQLite store and on an existing one), idle memory,
# and the time `rumbo demo` takes to fill its instance. Prints numbers; asserts nothing.
#
#   bench/foundation.sh            # SQLite
#   RUMBO_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test bench/foundation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/rumbo
port=${RUMBO_BENCH_PORT:-18931}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
pid=0

now_ms() { date +%s%3N; }
wait_healthy() {
    for _ in $(seq 1 3000); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
        sleep 0.005
    done
    echo "server did not come up" >&2
    return 1
}
elapsed=0
start_serve() {
    local t0
    t0=$(now_ms)
    RUMBO_LOG=warn "$bin" serve --data-dir "$work/data" --listen "127.0.0.1:$port" "$@" >"$work/serve.log" 2>&1 &
    pid=$!
    wait_healthy
    elapsed=$(($(now_ms) - t0))
}
stop_serve() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "binary: $(du -b $bin | cut -f1) bytes ($(du -h $bin | cut -f1))"

engine_args=(--log-format text)
if [ -n "${RUMBO_BENCH_POSTGRES_URL:-}" ]; then
    schema="rumbo_bench_$$"
    psql "$RUMBO_BENCH_POSTGRES_URL" -qc "CREATE SCHEMA $schema" >/dev/null
    engine_args=(--database-url "$RUMBO_BENCH_POSTGRES_URL?options=-csearch_path%3D$schema")
    echo "engine: PostgreSQL"
else
    echo "engine: SQLite"
fi

start_serve "${engine_args[@]}"
echo "cold start, fresh store (creates and migrates it): $elapsed ms"
sleep 2
echo "idle RSS after start: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
stop_serve
for i in 1 2 3; do
    start_serve "${engine_args[@]}"
    echo "cold start, existing store, run $i: $elapsed ms"
    stop_serve
done

if [ -z "${RUMBO_BENCH_POSTGRES_URL:-}" ]; then
    t0=$(now_ms)
    RUMBO_LOG=warn "$bin" demo --data-dir "$work/demo" --port "$port" >"$work/demo.log" 2>&1 &
    pid=$!
    wait_healthy
    echo "rumbo demo, start to serving a filled instance: $(($(now_ms) - t0)) ms ($(head -n 1 "$work/demo.log"))"
    sleep 2
    echo "idle RSS of the demo: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
    stop_serve
else
    psql "$RUMBO_BENCH_POSTGRES_URL" -qc "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE" >/dev/null
fi
