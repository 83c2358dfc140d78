#!/usr/bin/env bash
# Runs dso's benchmarks in release mode and prints Markdown rows for bench/RESULTS.md.
# PostgreSQL rows need DSO_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p dso-bench --bin append-throughput
bin="${CARGO_TARGET_DIR:-target}/release/append-throughput"
echo "| backend | mode | events | time | throughput |"
echo "|---|---|---|---|---|"
"$bin" --events "${EVENTS:-100000}" --batch "${BATCH:-1000}"
if [ -n "${DSO_TEST_POSTGRES_URL:-}" ]; then
  "$bin" --events "${EVENTS:-100000}" --batch "${BATCH:-1000}" --postgres
fi
