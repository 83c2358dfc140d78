#!/usr/bin/env bash
# Pipeline overhead: what dso adds per job, against running the same commands
# without it. Two shapes: a chain of 200 `true` jobs (each needs the one
# before) and a wide DAG of 1,000 independent `true` jobs. dso runs them with
# the sandbox on and off ([runner] sandbox in dso.toml), 2 jobs at a time; the
# baselines are `bash -c true` run one after another and `make -j2`.
# Prints Markdown rows for bench/RESULTS.md. Usage: bench/pipeline_overhead.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-3}"
cargo build -q --release -p dso-cli
dso="$PWD/${CARGO_TARGET_DIR:-target}/release/dso"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

make_repo() { # name n chain|wide
  local dir="$work/$1" n="$2" shape="$3"
  mkdir -p "$dir/.dso"
  {
    echo "jobs:"
    for i in $(seq 1 "$n"); do
      if [ "$shape" = chain ] && [ "$i" -gt 1 ]; then
        echo "  j$i: { activity: build, run: \"true\", needs: [j$((i - 1))] }"
      else
        echo "  j$i: { activity: build, run: \"true\" }"
      fi
    done
  } > "$dir/.dso/pipeline.yaml"
  git -C "$dir" init -q
  git -C "$dir" add -A
  git -C "$dir" -c user.name=bench -c user.email=bench@example.org commit -q -m bench
}

# Median wall time of a command over $reps runs, in seconds.
median() {
  local times=()
  for _ in $(seq 1 "$reps"); do
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

dso_run() { # repo sandbox
  local ws="$work/ws-$RANDOM$RANDOM"
  "$dso" init "$ws" > /dev/null
  sed -i "s/^sandbox = true/sandbox = $2/" "$ws/dso.toml"
  DSO_HOME="$ws" "$dso" run --repo "$1" --jobs 2 > /dev/null
}

bash_seq() { for _ in $(seq 1 "$1"); do bash -c true; done; }

make_wide() {
  local mk="$work/Makefile.$1"
  { printf 'all:'; for i in $(seq 1 "$1"); do printf ' t%s' "$i"; done; echo
    for i in $(seq 1 "$1"); do printf 't%s:\n\t@bash -c true\n' "$i"; done; } > "$mk"
  make -s -j2 -f "$mk" all
}

make_repo chain 200 chain
make_repo wide 1000 wide

echo "| shape | jobs | baseline | baseline time | dso, sandbox off | dso, sandbox on | overhead/job off | overhead/job on |"
echo "|---|---|---|---|---|---|---|---|"
for shape in chain wide; do
  if [ "$shape" = chain ]; then n=200; base_name='bash -c true, sequential'; base=$(median bash_seq 200)
  else n=1000; base_name='make -j2'; base=$(median make_wide 1000); fi
  off=$(median dso_run "$work/$shape" false)
  on=$(median dso_run "$work/$shape" true)
  per_off=$(echo "($off - $base) * 1000 / $n" | bc -l)
  per_on=$(echo "($on - $base) * 1000 / $n" | bc -l)
  printf '| %s | %d | %s | %.2f s | %.2f s | %.2f s | %.1f ms | %.1f ms |\n' "$shape" "$n" "$base_name" "$base" "$off" "$on" "$per_off" "$per_on"
done
