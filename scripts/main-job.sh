#!/usr/bin/env bash
# The main job, on the embedded default (SQLite): create a workspace, show the
# PIM as data, record the Plan DevSecOps exchanges (PIM Table 2, Fig 6) as
# events acting in their PIM roles, list the log and verify its hash chain.
# Usage: scripts/main-job.sh [WORKSPACE_DIR]   (default: a new temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p dso-cli
dso="$PWD/target/debug/dso"
ws="${1:-$(mktemp -d)/dso-workspace}"

"$dso" init "$ws" --name demo
export DSO_HOME="$ws"

echo; echo "== the PIM as data"
for kind in domains performers exchanges roles questions requirements capabilities; do
  printf '%-14s %s\n' "$kind" "$("$dso" model "$kind" --format json | grep -c '"id"')"
done
"$dso" model questions --role architect | head -8
"$dso" model exchanges

echo; echo "== Plan DevSecOps: the operational exchanges of Table 2, each an event"
"$dso" model exchanges --format json > "$ws/exchanges.json"
python3 - "$ws/exchanges.json" <<'PY' > "$ws/exchanges.jsonl" 2>/dev/null || true
import json, sys
for x in json.load(open(sys.argv[1])):
    print(json.dumps({"type": "dev.cdeventsx.dso.exchange.sent.0.1.0", "subject": x["id"],
                      "data": {"exchange": x["id"], "item": x["item"], "sender": x["sender"], "receiver": x["receiver"]}}))
PY
if [ -s "$ws/exchanges.jsonl" ]; then
  "$dso" event import "$ws/exchanges.jsonl" --role "Business or Mission Domain Expert"
else
  "$dso" event emit --type dev.cdeventsx.dso.exchange.sent.0.1.0 --subject OE6 \
    --data '{"exchange":"OE6","item":"IE8"}' --role "Business or Mission Domain Expert"
fi
"$dso" event emit --type dev.cdevents.pipelinerun.queued.0.2.0 --subject run-1 \
  --data '{"pipelineName":"main"}' --role "Software Developer"

echo; echo "== the event log"
"$dso" audit log -n 5
"$dso" audit checkpoint
"$dso" audit verify
echo; echo "workspace: $ws"
