#!/usr/bin/env bash
# The contract check of ./dev test can fail: in a repository of its own, a
# compatible change to the contract passes `./dev breaking` and a breaking one
# (a field changing type) fails it.
set -euo pipefail
src="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/repo"
cp -r "$src/protos" "$tmp/repo/"
cd "$tmp/repo"
git init -q
git add .
commit() { git -c user.email=test@funnel.dev -c user.name=test commit -qam "$1"; }
git -c user.email=test@funnel.dev -c user.name=test commit -qm "the contract as it is"
types=protos/funnel/handoff/v1/types.proto

# Compatible: a new field.
sed -i 's|^message RelayStats {|message RelayStats {\n  // Added by the test.\n  int64 added_by_test = 99;|' "$types"
if ! "$src/dev" breaking "$tmp/repo"; then
  echo "FAIL: a compatible change was refused"
  exit 1
fi
commit "a compatible change"

# Breaking: a field changes type.
grep -q '  int64 pending = 1;' "$types"
sed -i 's|  int64 pending = 1;|  string pending = 1;|' "$types"
if "$src/dev" breaking "$tmp/repo"; then
  echo "FAIL: a breaking change passed"
  exit 1
fi
# Committed, it still fails: the check compares with every earlier version.
commit "a breaking change"
if "$src/dev" breaking "$tmp/repo"; then
  echo "FAIL: a committed breaking change passed"
  exit 1
fi
echo "contract check: the compatible change passed, the breaking change failed"
