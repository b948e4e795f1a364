#!/usr/bin/env bash
# Side-by-side benchmark of `meltline slice` and PySLM (PyPI PythonSLM 0.6.x) on the same meshes,
# layer thickness, cut planes, hatch distance, rotation, contour count and beam offset.
#
#   bench/pyslm_vs_meltline.sh [LATTICE_CAGE.stl]
#
# Meshes: parts/Spiral_lattice_cone_1.stl and parts/NIST_Test_Artifact_ver3b.stl from the corpus
# ($MELTLINE_CORPUS, default ../shared/corpus beside the repository), plus a designed lattice cage
# if one is given. Each tool runs under `/usr/bin/time -v` (peak memory, wall clock); the table
# gives load / slice / hatch times, vector counts, per-layer area agreement (max relative
# difference) and the speed ratio of the wall-clock times (PySLM / meltline).
#
# Environment: LAYER (0.03 mm), HATCH (0.1 mm), ROTATION (66.7°), CONTOURS (1), BEAM_OFFSET
# (0.05 mm), OUT (bench/out), REPEAT (1: runs per tool and mesh; the run with the median wall
# clock is reported), MAX_LAYERS (all; PySLM only, for quick checks), SKIP_MELTLINE=1 to run
# PySLM alone, PYSLM_FROM=DIR to reuse the PySLM results (pyslm_NAME.json/.time) of an earlier
# run in DIR instead of running PySLM again, WRITE_JOB=1 to have meltline also write the .mlj job
# (PySLM writes no job file, so by default neither side does). The first run creates bench/.venv from bench/pyslm_requirements.txt (pyclipr
# may build from source: it needs g++ and takes a few minutes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
CORPUS="${MELTLINE_CORPUS:-$ROOT/../shared/corpus}"
OUT="${OUT:-$BENCH/out}"
LAYER="${LAYER:-0.03}"
HATCH="${HATCH:-0.1}"
ROTATION="${ROTATION:-66.7}"
CONTOURS="${CONTOURS:-1}"
BEAM_OFFSET="${BEAM_OFFSET:-0.05}"
REPEAT="${REPEAT:-1}"
VENV="$BENCH/.venv"
PY="$VENV/bin/python"

if [[ ! -x /usr/bin/time ]]; then
    echo "error: /usr/bin/time (GNU time) is needed for peak memory; apt-get install time" >&2
    exit 1
fi

if [[ ! -x "$PY" ]] || ! "$PY" -c "import pyslm, xxhash" 2>/dev/null; then
    echo "== setting up the PySLM venv in $VENV (pyclipr may build from source: minutes)" >&2
    if ! command -v g++ >/dev/null; then
        echo "error: g++ is needed to build pyclipr; apt-get install g++" >&2
        exit 1
    fi
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet -r "$BENCH/pyslm_requirements.txt"
fi

MESHES=("$CORPUS/parts/Spiral_lattice_cone_1.stl" "$CORPUS/parts/NIST_Test_Artifact_ver3b.stl")
if [[ $# -ge 1 ]]; then
    MESHES+=("$1")
fi
for m in "${MESHES[@]}"; do
    [[ -f "$m" ]] || { echo "error: mesh not found: $m (set MELTLINE_CORPUS)" >&2; exit 1; }
done

MELTLINE=""
if [[ "${SKIP_MELTLINE:-0}" != 1 ]]; then
    echo "== building meltline (release)" >&2
    (cd "$ROOT" && cargo build --release --quiet -p meltline-host --bin meltline)
    MELTLINE="${CARGO_TARGET_DIR:-$ROOT/target}/release/meltline"
fi

mkdir -p "$OUT"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $(nproc)"
    echo "memory: $(free -g | awk '/Mem:/ {print $2}') GB"
    echo "pyslm: $("$PY" -c 'import pyslm; print(pyslm.__version__)'), python $("$PY" -c 'import sys; print(sys.version.split()[0])')"
    echo "params: layer $LAYER mm, hatch $HATCH mm, rotation $ROTATION deg, contours $CONTOURS, beam offset $BEAM_OFFSET mm, runs $REPEAT"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" >&2

# Runs "$@" REPEAT times under /usr/bin/time -v, writing PREFIX.rK.{json,time}, and keeps the run
# with the median wall clock as PREFIX.{json,time}. The command gets the JSON path as {OUT_JSON}.
run_repeated() {
    local prefix="$1" ext="$2"
    shift 2
    local times=()
    for ((k = 0; k < REPEAT; k++)); do
        local args=()
        for a in "$@"; do args+=("${a//\{OUT_JSON\}/$prefix.r$k.$ext}"); done
        /usr/bin/time -v -o "$prefix.r$k.time" "${args[@]}"
        times+=("$prefix.r$k.time")
    done
    local pick
    pick="$(python3 "$BENCH/pyslm_compare.py" --pick-median "${times[@]}")"
    cp "$prefix.r$pick.$ext" "$prefix.$ext"
    cp "$prefix.r$pick.time" "$prefix.time"
}

COMPARE_ARGS=()
for m in "${MESHES[@]}"; do
    name="$(basename "${m%.*}")"
    echo "== $name: PySLM" >&2
    pyslm_extra=()
    [[ -n "${MAX_LAYERS:-}" ]] && pyslm_extra+=(--max-layers "$MAX_LAYERS")
    if [[ -n "${PYSLM_FROM:-}" ]]; then
        [[ "$(realpath "$PYSLM_FROM")" == "$(realpath "$OUT")" ]] \
            || cp "$PYSLM_FROM/pyslm_$name.json" "$PYSLM_FROM/pyslm_$name.time" "$OUT/"
    else
        run_repeated "$OUT/pyslm_$name" json \
            "$PY" "$BENCH/pyslm_slice.py" "$m" --layer "$LAYER" --hatch "$HATCH" --rotation "$ROTATION" \
            --contours "$CONTOURS" --beam-offset "$BEAM_OFFSET" --out "{OUT_JSON}" "${pyslm_extra[@]}"
    fi
    m_stats="-"
    m_time="-"
    if [[ -n "$MELTLINE" ]]; then
        echo "== $name: meltline" >&2
        job_out=()
        [[ "${WRITE_JOB:-0}" == 1 ]] && job_out=(-o "$OUT/$name.mlj")
        run_repeated "$OUT/meltline_$name" stats.json \
            "$MELTLINE" slice "$m" "${job_out[@]}" --layer "$LAYER" --hatch "$HATCH" --strategy lines \
            --rotation "$ROTATION" --contours "$CONTOURS" --beam-offset "$BEAM_OFFSET" \
            --stats "{OUT_JSON}"
        m_stats="$OUT/meltline_$name.stats.json"
        m_time="$OUT/meltline_$name.time"
    fi
    COMPARE_ARGS+=("$name" "$OUT/pyslm_$name.json" "$OUT/pyslm_$name.time" "$m_stats" "$m_time")
done

echo
python3 "$BENCH/pyslm_compare.py" "${COMPARE_ARGS[@]}"
echo
python3 "$BENCH/pyslm_compare.py" --markdown "${COMPARE_ARGS[@]}" | tee "$OUT/table.md"
