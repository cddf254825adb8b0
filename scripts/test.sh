#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, build, then vitest. Tests start
# their own PostgreSQL and MariaDB servers on free ports and stop them (test/global-setup.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh

# Type-check the tests too: the build covers src/, screens/ and bench/ only. Incremental (its
# state under node_modules/.cache): a repeated run re-checks only what changed.
npx --no-install tsc -p tsconfig.test.json --noEmit --incremental --tsBuildInfoFile node_modules/.cache/dbdrill/tsc-test.tsbuildinfo

# The import rules (no cycles, screens only through the console API, no drivers in src/ops):
# a new break fails the run here, before any server starts.
npm run --silent lint:deps

report=$(mktemp /tmp/dbdrill-vitest-XXXXXX.json)
trap 'rm -f "$report"' EXIT
status=0
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" </dev/null || status=$?

# One plain closing line that any CI reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) { console.error("test: no test ran"); process.exit(1); }
' "$report" || status=1
exit "$status"
