#!/usr/bin/env bash
# Runs every verification script (as root) and keeps each one's output in out/<name>.txt.
# Afterwards checks that no mount or loop device of ours is left behind.
# Usage: sudo native-notes/verify/run-all.sh [script.mjs ...]
set -u
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "run as root: the scripts mount loop filesystems" >&2; exit 2; }
mkdir -p out
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=(link-limit.mjs ficlone.mjs rename-ctime.mjs devices.mjs protected-hardlinks.mjs dedupe.mjs)
status=0
for s in "${scripts[@]}"; do
  echo "== $s"
  if node "$s" >"out/${s%.mjs}.txt" 2>&1; then cat "out/${s%.mjs}.txt"; else status=1; cat "out/${s%.mjs}.txt"; echo "!! $s failed"; fi
done
leaks=$( (losetup -a; grep pycstore-verify /proc/self/mountinfo) | grep -c pycstore-verify || true)
echo "== leftover loop devices and mounts of these scripts: $leaks"
[ "$leaks" = 0 ] || status=1
exit $status
