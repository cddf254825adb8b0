#!/usr/bin/env bash
# Shared by the two README commands: the system packages, node_modules from the lockfile, and a
# build of dist/ that is newer than every source file. Quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

# Arguments name the system packages needed (default: all the tests need).
bash scripts/ensure-deps.sh "$@"

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "prepare: dbdrill needs Node.js 20 or newer (found $(node --version 2>/dev/null || echo none)); install nodejs 20 from nodesource or your distribution." >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "prepare: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src screens bench package.json tsconfig.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  echo "prepare: building dist/"
  rm -rf dist
  npm run --silent build
  touch "$stamp"
fi
