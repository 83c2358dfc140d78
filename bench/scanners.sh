#!/usr/bin/env bash
# Scanner benchmarks (never run by the tests): `dso scan secrets` against
# detect-secrets and ripgrep with the same patterns, and `dso scan sast`
# against semgrep and the ast-grep CLI with equivalent rules, on the same
# tree (the Python standard library). Prints Markdown and appends it, with
# the machine and the commands, to bench/RESULTS.md.
#
#   SHARED=/path/to/shared   the shared folder (default: ../shared or ../../shared)
#   PEERS_PREFIX=...         where the peers live (default ~/.cache/dso-peers);
#                            install them with `PEERS_SKIP_CARGO=1 bash $SHARED/peers/setup.sh`
#   RUNS=5                   hyperfine runs for the fast tools (slow peers run twice)
#   NO_APPEND=1              print only
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
if [ -z "${SHARED:-}" ]; then
  for c in ../shared ../../shared; do [ -d "$c/peers" ] && SHARED=$(cd "$c" && pwd) && break; done
fi
[ -d "${SHARED:-}/peers" ] || { echo "set SHARED to the shared folder" >&2; exit 2; }
PEERS_PREFIX="${PEERS_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/dso-peers}"
# shellcheck disable=SC1091
. "$PEERS_PREFIX/env.sh"
RULES="$SHARED/peers/rules"
RUNS="${RUNS:-5}"
for tool in rg hyperfine detect-secrets semgrep ast-grep python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (run the peers setup)" >&2; exit 2; }
done

cargo build --release -q -p dso-cli
DSO="${CARGO_TARGET_DIR:-$REPO/target}/release/dso"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STDLIB=$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
# One copy of the tree for every tool: no site-packages, no bytecode, and an
# empty .semgrepignore so semgrep does not skip tests/ (its default does).
TREE="$WORK/stdlib"
mkdir -p "$TREE"
(cd "$STDLIB" && tar --exclude=site-packages --exclude=__pycache__ -cf - .) | (cd "$TREE" && tar -xf -)
: > "$TREE/.semgrepignore"
tree_mib=$(du -sm --apparent-size "$TREE" | cut -f1)
n_files=$(find "$TREE" -type f | wc -l)
py_files=$(find "$TREE" -name '*.py' -type f | wc -l)
py_mib=$(find "$TREE" -name '*.py' -type f -print0 | du -cb --files0-from=- | tail -1 | awk '{printf "%.2f", $1/1048576}')

# mean seconds of a command, by hyperfine
# (-i: ast-grep and semgrep exit non-zero when they find error-level matches)
mean() {  # mean <runs> <command>; one warm-up run for the fast tools only
  local warmup=1
  [ "$1" -lt 3 ] && warmup=0
  hyperfine -N -i --warmup "$warmup" --runs "$1" --export-json "$WORK/h.json" "$2" >/dev/null 2>&1
  python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' "$WORK/h.json"
}
ratio() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
rate() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

out="$WORK/results.md"
{
  echo
  echo "## Scanners ($(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD))"
  echo
  echo "Machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -sr)."
  echo "Command: \`RUNS=$RUNS bash bench/scanners.sh\` (hyperfine means; fast tools $RUNS runs after a warm-up, semgrep 2 runs, detect-secrets 1). Load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other builds were running: absolute times are noisy, ratios less so)."
  echo "Tree: the Python $(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])') standard library without site-packages and __pycache__: $n_files files, $tree_mib MiB ($py_files .py files, $py_mib MiB)."
} > "$out"

# --- Secrets ----------------------------------------------------------------------
t_dso=$(mean "$RUNS" "$DSO scan secrets $TREE --format json")
t_rg=$(mean "$RUNS" "rg --hidden -g !.git -n -f $RULES/secrets.rg $TREE")
# detect-secrets only reports files under its working directory: run it from the tree.
# It takes minutes: one run.
t_ds=$(mean 1 "bash -c 'cd $TREE && detect-secrets scan --all-files .'")
n_dso=$("$DSO" scan secrets "$TREE" --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))')
n_rg=$( (rg --hidden -g '!.git' -n -f "$RULES/secrets.rg" "$TREE" || true) | wc -l)
n_ds=$( (cd "$TREE" && detect-secrets scan --all-files .) | python3 -c 'import json,sys; print(sum(len(v) for v in json.load(sys.stdin)["results"].values()))')
LOCK="$SHARED/peers/data/lockfiles/vector.Cargo.lock"
mkdir -p "$WORK/lock" && cp "$LOCK" "$WORK/lock/"
lock_dso=$("$DSO" scan secrets "$WORK/lock" --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))')
lock_ds=$( (cd "$WORK/lock" && detect-secrets scan --all-files .) | python3 -c 'import json,sys; print(sum(len(v) for v in json.load(sys.stdin)["results"].values()))')
{
  echo
  echo "### Secrets: \`dso scan secrets\` (70 rules) vs detect-secrets 1.5 and ripgrep (13 regexes of secrets.rg)"
  echo
  echo "| tool | time | MiB/s | findings | dso speed-up |"
  echo "|---|---|---|---|---|"
  echo "| dso scan secrets | ${t_dso} s | $(rate "$tree_mib" "$t_dso") | $n_dso | 1.0× |"
  echo "| ripgrep -f secrets.rg | ${t_rg} s | $(rate "$tree_mib" "$t_rg") | $n_rg lines | $(ratio "$t_rg" "$t_dso")× |"
  echo "| detect-secrets scan --all-files | ${t_ds} s | $(rate "$tree_mib" "$t_ds") | $n_ds | $(ratio "$t_ds" "$t_dso")× |"
  echo
  echo "Goals: ≥ 50× detect-secrets (measured $(ratio "$t_ds" "$t_dso")×), ≥ 0.5× ripgrep's MiB/s (measured $(ratio "$t_rg" "$t_dso")×)."
  echo "On vector.Cargo.lock (1286 packages, their checksums; the file keeps its shared name, so dso does not treat it as a lockfile by name): dso reports $lock_dso findings, detect-secrets $lock_ds."
} >> "$out"

# --- SAST -------------------------------------------------------------------------
AG_RULES="$RULES/ast-grep-py-dangerous.yml"
SG_RULES="$RULES/semgrep-py-dangerous.yml"
t_dso=$(mean "$RUNS" "$DSO scan sast $TREE --no-builtin --rules $AG_RULES --format json")
t_ag=$(mean "$RUNS" "ast-grep scan -r $AG_RULES --json=stream $TREE")
t_sg=$(mean 2 "semgrep scan --metrics=off --disable-version-check --config $SG_RULES --json $TREE")
t_pack=$(mean "$RUNS" "$DSO scan sast $TREE --format json")
"$DSO" scan sast "$TREE" --no-builtin --rules "$AG_RULES" --format json > "$WORK/dso.json"
ast-grep scan -r "$AG_RULES" --json=stream "$TREE" > "$WORK/ag.jsonl" || true
semgrep scan --metrics=off --disable-version-check --config "$SG_RULES" --json "$TREE" > "$WORK/sg.json" 2>/dev/null || true
"$DSO" scan sast "$TREE" --format json > "$WORK/pack.json"
python3 - "$WORK" "$TREE" >> "$WORK/compare.md" <<'PY'
import json, os, sys
work, tree = sys.argv[1], sys.argv[2]
def rel(p):
    p = os.path.relpath(p, tree) if os.path.isabs(p) else p
    return p[2:] if p.startswith("./") else p
dso = {(f["path"], f["line"], f["rule_id"]) for f in json.load(open(f"{work}/dso.json"))["findings"]}
ag = set()
for line in open(f"{work}/ag.jsonl"):
    if line.strip():
        m = json.loads(line)
        ag.add((rel(m["file"]), m["range"]["start"]["line"] + 1, m["ruleId"]))
sg = set()
for r in json.load(open(f"{work}/sg.json")).get("results", []):
    sg.add((rel(r["path"]), r["start"]["line"], r["check_id"].split(".")[-1]))
pack = json.load(open(f"{work}/pack.json"))["findings"]
def diff(name, other):
    only_dso, only_other = len(dso - other), len(other - dso)
    return f"| dso vs {name} | {len(dso & other)} | {only_dso} | {only_other} |"
print("| comparison | same (path, line, rule) | only dso | only peer |")
print("|---|---|---|---|")
print(diff("ast-grep", ag))
print(diff("semgrep", sg))
print()
print(f"Matches: dso {len(dso)}, ast-grep {len(ag)}, semgrep {len(sg)}; the built-in pack (41 rules) reports {len(pack)} findings on the same tree.")
examples = sorted(sg - dso)[:3] + sorted(dso - sg)[:3]
if examples:
    print("Examples of dso/semgrep differences: " + "; ".join(f"`{p}:{l}` {r}" for p, l, r in examples) + ".")
PY
{
  echo
  echo "### SAST level 1: \`dso scan sast\` vs ast-grep 0.51.1 CLI and semgrep 1.185 (the 6 rules of ast-grep-py-dangerous.yml / semgrep-py-dangerous.yml)"
  echo
  echo "| tool | time | MiB/s of .py | dso speed-up |"
  echo "|---|---|---|---|"
  echo "| dso scan sast --no-builtin --rules ast-grep-py-dangerous.yml | ${t_dso} s | $(rate "$py_mib" "$t_dso") | 1.0× |"
  echo "| ast-grep scan -r ast-grep-py-dangerous.yml | ${t_ag} s | $(rate "$py_mib" "$t_ag") | $(ratio "$t_ag" "$t_dso")× |"
  echo "| semgrep scan --config semgrep-py-dangerous.yml | ${t_sg} s | $(rate "$py_mib" "$t_sg") | $(ratio "$t_sg" "$t_dso")× |"
  echo "| dso scan sast (built-in pack, 41 rules, all languages) | ${t_pack} s | $(rate "$py_mib" "$t_pack") | — |"
  echo
  echo "Goals: ≥ 10× semgrep (measured $(ratio "$t_sg" "$t_dso")×), ≥ 0.7× the ast-grep CLI (measured $(ratio "$t_ag" "$t_dso")×)."
  echo
  cat "$WORK/compare.md"
} >> "$out"

cat "$out"
[ -n "${NO_APPEND:-}" ] || cat "$out" >> bench/RESULTS.md
