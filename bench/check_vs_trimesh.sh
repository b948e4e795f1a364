#!/usr/bin/env bash
# Load + full check, meltline vs trimesh, on the same files in one run.
# Usage: bench/check_vs_trimesh.sh [CORPUS_DIR]   (default: $MELTLINE_CORPUS or ../shared/corpus)
# Creates bench/.venv (gitignored) with trimesh + numpy, builds meltline in release, generates
# a 2 M-triangle torus in a temp dir, and prints wall time and peak memory of each run
# (/usr/bin/time -v).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
corpus="${1:-${MELTLINE_CORPUS:-$root/../shared/corpus}}"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet trimesh numpy
fi
(cd "$root" && cargo build --quiet --release -p meltline-host)
bin="${CARGO_TARGET_DIR:-$root/target}/release/meltline"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$venv/bin/python" "$here/make_torus.py" "$tmp/torus_2M.stl" 2000 500 >/dev/null

measure() { # label, command...
    local label="$1"; shift
    /usr/bin/time -v "$@" >"$tmp/out" 2>"$tmp/time" || true
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$tmp/time")
    printf '%-10s wall %-9s peak %5s MiB  %s\n' "$label" "$wall" "$rss" "$(tr -d ' \n' <"$tmp/out" | head -c 150)"
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "trimesh $("$venv/bin/python" -c 'import trimesh; print(trimesh.__version__)'), meltline $("$bin" --version)"
for f in "$corpus/parts/Spiral_lattice_cone_1.stl" "$tmp/torus_2M.stl"; do
    echo "== $(basename "$f")"
    measure meltline "$bin" check "$f" --json --build-volume none
    measure trimesh "$venv/bin/python" "$here/trimesh_check.py" "$f"
done
