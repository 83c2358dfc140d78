#!/usr/bin/env bash
# False positives on lockfile checksums (never run by the tests): detect-secrets
# and `dso scan secrets` on the same real Cargo.lock (vector's, 1286 packages),
# once under its own name and once renamed. detect-secrets skips files it knows
# as lockfiles by name (its `is_lock_file` filter), so the renamed copy shows
# what its entropy plugins do with `checksum = "<64 hex>"` lines; dso must
# report nothing under either name.
#
#   SHARED=/path/to/shared       default: ../shared or ../../shared
#   DETECT_SECRETS=detect-secrets  the detect-secrets 1.5 binary
#   DSO=path/to/dso              default: a release build of this checkout
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
if [ -z "${SHARED:-}" ]; then
  for c in ../shared ../../shared; do [ -d "$c/peers" ] && SHARED=$(cd "$c" && pwd) && break; done
fi
[ -d "${SHARED:-}/peers" ] || { echo "set SHARED to the shared folder" >&2; exit 2; }
DS="${DETECT_SECRETS:-detect-secrets}"
command -v "$DS" >/dev/null || { echo "missing detect-secrets (PEERS setup or DETECT_SECRETS=...)" >&2; exit 2; }
if [ -z "${DSO:-}" ]; then
  cargo build --release -q -p dso-cli
  DSO="${CARGO_TARGET_DIR:-$REPO/target}/release/dso"
fi
LOCK="$SHARED/peers/data/lockfiles/vector.Cargo.lock"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir "$work/named" "$work/renamed"
cp "$LOCK" "$work/named/Cargo.lock"
cp "$LOCK" "$work/renamed/vector-Cargo.lock.txt"
count_ds() { (cd "$1" && "$DS" scan --all-files .) | python3 -c 'import json,sys; print(sum(len(v) for v in json.load(sys.stdin)["results"].values()))'; }
count_dso() { "$DSO" scan secrets "$1" --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))'; }
echo "| file name | detect-secrets findings | dso scan secrets findings |"
echo "|---|---|---|"
echo "| Cargo.lock | $(count_ds "$work/named") | $(count_dso "$work/named") |"
echo "| vector-Cargo.lock.txt (same bytes) | $(count_ds "$work/renamed") | $(count_dso "$work/renamed") |"
