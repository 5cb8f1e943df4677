#!/usr/bin/env bash
# The public eval suite as CI runs it: every shipped scenario with the rules planner on the
# embedded graph (failing below EVAL_MIN_PASS), then three scenarios on a local Neo4j 5.
set -euo pipefail
cd "$(dirname "$0")/.."

min_pass="${EVAL_MIN_PASS:-0.9}"
work="$(mktemp -d)"
neo4j_pid=""
cleanup() {
  if [ -n "$neo4j_pid" ]; then kill "$neo4j_pid" 2>/dev/null || true; wait "$neo4j_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "eval: the public suite, rules planner, embedded graph (--min-pass $min_pass)"
npx tsx src/main.ts eval --json --min-pass "$min_pass" >"$work/suite.json"
node -e "const d = require(process.argv[1]); console.log('eval: summary ' + JSON.stringify(d.summary))" "$work/suite.json"

port="$(node -e "const s = require('node:net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")"
echo "eval: starting a local Neo4j on 127.0.0.1:$port"
NEO4J_PORT="$port" NEO4J_HOME_DIR="$work/neo4j" node scripts/neo4j-local.mjs >"$work/neo4j.uri" 2>"$work/neo4j.log" &
neo4j_pid=$!
for _ in $(seq 1 240); do
  [ -s "$work/neo4j.uri" ] && break
  if ! kill -0 "$neo4j_pid" 2>/dev/null; then
    echo "eval: Neo4j did not start:" >&2
    tail -20 "$work/neo4j.log" >&2
    exit 1
  fi
  sleep 0.5
done
if [ ! -s "$work/neo4j.uri" ]; then
  echo "eval: Neo4j did not answer within 120 s" >&2
  exit 1
fi

# At a third of the scenario's speed: the server graph's round trips cost sim time too. One after
# another on one Neo4j, so a run that saw what an earlier run left in the graph would show it.
echo "eval: three scenarios in a row on Neo4j (10x sim time)"
NEO4J_URI="$(head -1 "$work/neo4j.uri")" npx tsx src/main.ts eval \
  evals/scenarios/bad-deploy-checkout.yaml \
  evals/scenarios/cascade-frontend-to-postgres.yaml \
  evals/scenarios/cache-memory-pressure-redis.yaml \
  --backend neo4j --speed 10 --min-pass 1
