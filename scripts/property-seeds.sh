#!/usr/bin/env bash
# Runs every test file that uses fast-check RUNS times (default 30), each run with a fresh seed,
# and prints each failure with the seed that replays it. Integration files need the local stack:
# it is brought up once here and left running.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
mapfile -t files < <(grep -rl "from 'fast-check'" tests --include='*.test.ts' | sort)
npm run --silent services:up >/dev/null || exit 1
log=$(mktemp)
passed=0 failed=0
for file in "${files[@]}"; do
  for ((i = 1; i <= runs; i++)); do
    seed=$(( (RANDOM << 15 | RANDOM) ))
    if FC_SEED=$seed npx vitest run "$file" >"$log" 2>&1; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAIL $file FC_SEED=$seed"
      grep -E 'seed|Error' "$log" | head -5
    fi
  done
  echo "$file: $runs seeds done"
done
rm -f "$log"
echo "property seeds: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
