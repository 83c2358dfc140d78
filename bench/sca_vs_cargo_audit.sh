#!/usr/bin/env bash
# SCA benchmark: `dso scan sca` against `cargo audit` on the same Cargo.lock and the same
# RustSec advisory-db (the shared peer data), same machine, one run each.
#
# 1. checks that both report the same RUSTSEC ids (vulnerabilities and informational
#    warnings, by advisory, package and version) on every lockfile, and exits 1 if not;
# 2. times both end to end with hyperfine (each run is a fresh process: cargo-audit reads the
#    advisory-db from disk, dso reads its workspace database, where the db was imported once).
#    cargo-audit exits 1 when it finds vulnerabilities, so failures are ignored (-i).
#
# Needs: cargo-audit (shared/peers/setup.sh), hyperfine, python3.
# Usage: bench/sca_vs_cargo_audit.sh [LOCKFILE...]   (default: vector.Cargo.lock and vector-2021-05.Cargo.lock)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-}"
for c in ../shared ../../shared; do [ -z "$SHARED" ] && [ -d "$c/peers" ] && SHARED="$c"; done
D="$SHARED/peers/data"
DB="$D/advisories/rustsec-advisory-db"
LOCKS=("$@")
[ ${#LOCKS[@]} -gt 0 ] || LOCKS=("$D/lockfiles/vector.Cargo.lock" "$D/lockfiles/vector-2021-05.Cargo.lock")
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-audit >/dev/null || { echo "cargo-audit missing: bash $SHARED/peers/setup.sh" >&2; exit 2; }

cargo build -q --release -p dso-cli
dso="$PWD/${CARGO_TARGET_DIR:-target}/release/dso"
ws="$(mktemp -d)/ws"
"$dso" init "$ws" --name bench --owner bench >/dev/null
export DSO_HOME="$ws"
start=$(date +%s.%N)
"$dso" advisories import "$DB"
end=$(date +%s.%N)
echo "one-time import of the advisory-db: $(python3 -c "print(f'{$end-$start:.2f} s')")"

status=0
for lock in "${LOCKS[@]}"; do
  cargo audit --db "$DB" --no-fetch --no-yanked --json -f "$lock" > "$ws/audit.json" || true
  "$dso" scan sca "$lock" --no-store --format json > "$ws/dso.json"
  python3 - "$ws/audit.json" "$ws/dso.json" "$lock" <<'PY' || status=1
import json, sys
a = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
key = lambda i, n, v: (i, n, v)
av = {key(x['advisory']['id'], x['package']['name'], x['package']['version']) for x in a['vulnerabilities']['list']}
aw = {key(x['advisory']['id'], x['package']['name'], x['package']['version'])
      for l in a['warnings'].values() for x in l if x.get('advisory')}
dv = {key(f['advisory'], f['package'], f['version']) for f in d['findings'] if not f['informational']}
dw = {key(f['advisory'], f['package'], f['version']) for f in d['findings'] if f['informational']}
same = av == dv and aw == dw
print(f"{sys.argv[3].rsplit('/', 1)[-1]}: cargo-audit {len(av)} vulnerabilities + {len(aw)} warnings, "
      f"dso {len(dv)} + {len(dw)}: {'same RUSTSEC ids' if same else 'DIFFERENT'}")
if not same:
    print("  only cargo-audit:", sorted((av - dv) | (aw - dw)))
    print("  only dso:", sorted((dv - av) | (dw - aw)))
    sys.exit(1)
PY
done

for lock in "${LOCKS[@]}"; do
  name="$(basename "$lock")"
  hyperfine -N -i --warmup 3 --runs "${RUNS:-30}" --export-markdown "$ws/$name.md" \
    -n "cargo audit ($name)" "cargo-audit audit --db $DB --no-fetch --no-yanked --json -f $lock" \
    -n "dso scan sca --no-store ($name)" "$dso scan sca $lock --no-store --format json" \
    -n "dso scan sca, findings stored ($name)" "$dso scan sca $lock --format json" >/dev/null
  cat "$ws/$name.md"
  echo
done
exit $status
