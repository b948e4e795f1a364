#!/bin/sh
# Times the 24-cage plate from plate file to verified job: `meltline plate` (design, check,
# place, slice, write) then `meltline simulate` (stream, verify, execute, exposure maps), each
# under /usr/bin/time -v for wall, CPU and peak memory. Needs the corpus beside the project
# (../shared/corpus) and a release build (`cargo build --release --bins`), or MELTLINE_BIN naming
# a copy of one (so that rebuilding meanwhile does not change what is timed). PLATE names another
# plate file and MACHINE the machine it is simulated on (e.g. bench/plate24/plate-4x.toml and
# meltline-sim-250-4x).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${MELTLINE_BIN:-"$here/../target/release/meltline"}
out=${1:-$(mktemp -d)}
plate=${PLATE:-"$here/plate24/plate.toml"}
mkdir -p "$out"
echo "== meltline plate ($out)"
/usr/bin/time -v "$bin" plate "$plate" -o "$out/plate24.mlj" \
    --report "$out/plate24.json" --out-dir "$out/records" 2>&1 |
    grep -E "meltline:|Elapsed|User time|System time|Maximum resident"
echo "== meltline simulate"
/usr/bin/time -v "$bin" simulate "$out/plate24.mlj" --machine "${MACHINE:-meltline-sim-250}" --report "$out/run.json" 2>&1 |
    grep -E "VERIFIED|Elapsed|User time|System time|Maximum resident"
