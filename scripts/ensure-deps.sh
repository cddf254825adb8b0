#!/usr/bin/env bash
# Makes sure the database servers and tools the test suite drives are on this machine.
# As root it installs what is missing (apt, non-interactive); otherwise it names the exact
# command to run and fails, because tests that claim database behaviour need the real servers.
set -euo pipefail

# Debian package -> a file that proves it is installed.
declare -A PROBE=(
  [postgresql]=/usr/lib/postgresql/15/bin/postgres
  [postgresql-contrib]=/usr/lib/postgresql/15/lib/amcheck.so
  [mariadb-server]=/usr/sbin/mariadbd
  [mariadb-client]=/usr/bin/mariadb-dump
  [mariadb-backup]=/usr/bin/mariadb-backup
  [pgbackrest]=/usr/bin/pgbackrest
  [zstd]=/usr/bin/zstd
  [tmux]=/usr/bin/tmux
  [rclone]=/usr/bin/rclone
  [age]=/usr/bin/age
  [openssh-server]=/usr/sbin/sshd
)
ORDER=(postgresql postgresql-contrib mariadb-server mariadb-client mariadb-backup pgbackrest zstd tmux rclone age openssh-server)

# Callers may ask for a subset (npm start needs only PostgreSQL for the training sandbox).
if [ "$#" -gt 0 ]; then
  for pkg in "$@"; do
    [ -n "${PROBE[$pkg]:-}" ] || { echo "deps: unknown package $pkg (known: ${ORDER[*]})" >&2; exit 2; }
  done
  ORDER=("$@")
fi

missing=()
for pkg in "${ORDER[@]}"; do
  [ -e "${PROBE[$pkg]}" ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "deps: all present (${ORDER[*]})"
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}. Install them with: sudo apt-get update && sudo $cmd" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Only refresh the package lists when apt cannot find a candidate; an update costs ~20 s.
if ! apt-get install -y --no-install-recommends --dry-run "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/dbdrill-apt.log 2>&1 || {
  echo "deps: apt-get failed; the last lines of /tmp/dbdrill-apt.log:" >&2
  tail -n 20 /tmp/dbdrill-apt.log >&2
  exit 1
}

# Debian starts the packaged services on install where it may; the tests start their own
# servers (and their own sshd for the SFTP copy tests) on free ports, so a packaged one would
# only hold memory and the default port.
for svc in mariadb postgresql ssh; do
  if command -v service >/dev/null && service "$svc" status >/dev/null 2>&1; then
    service "$svc" stop >/dev/null 2>&1 || true
  fi
done

for pkg in "${missing[@]}"; do
  [ -e "${PROBE[$pkg]}" ] || { echo "deps: $pkg installed but ${PROBE[$pkg]} is not there" >&2; exit 1; }
done
echo "deps: installed ${missing[*]}"
