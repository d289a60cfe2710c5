#!/usr/bin/env bash
# run.sh FUZZER SECONDS [WORK_DIR]: runs one libFuzzer target for SECONDS over its
# corpus: what it found before (WORK_DIR/corpus/NAME, kept between runs when
# WORK_DIR is given), the seeds in the tree (corpus/NAME, or seeds/NAME.txt turned
# into inputs) and every regression input (regressions/NAME). A crash leaves its
# input in WORK_DIR/artifacts/NAME and fails.
set -euo pipefail
bin="$1" seconds="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
name="$(basename "$bin")"
name="${name%_fuzzer}"
if [ -n "${3:-}" ]; then
  work="$3"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/corpus/$name" "$work/artifacts/$name"
dirs=("$work/corpus/$name")
[ -d "$here/corpus/$name" ] && dirs+=("$here/corpus/$name")
if [ -f "$here/seeds/$name.txt" ]; then
  rm -rf "$work/seeds/$name" && mkdir -p "$work/seeds/$name"
  FUNNEL_FUZZ_WRITE_SEEDS="$here/seeds/$name.txt:$work/seeds/$name" "$bin"
  dirs+=("$work/seeds/$name")
fi
[ -d "$here/regressions/$name" ] && dirs+=("$here/regressions/$name")
# -timeout: one input running 30 s is a hang; the services' own deadlines are 20 s.
exec "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/$name/" "${dirs[@]}"
