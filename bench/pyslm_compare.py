#!/usr/bin/env python3
"""Compare a PySLM run (bench/pyslm_slice.py JSON) with a meltline run (`meltline slice --stats`).

Usage:
  pyslm_compare.py [--markdown] NAME PYSLM.json PYSLM.time MELTLINE.stats.json MELTLINE.time [NAME ...]
  pyslm_compare.py --pick-median RUN1.time RUN2.time ...   (prints the 0-based index of the median run)

Each `.time` file is the output of `/usr/bin/time -v` (peak memory, wall clock); either
meltline file may be missing (`-`), in which case its columns read "pending".

Per-layer area agreement: layers are matched by index (both tools cut layer i at
z_min + (i + 0.5)·t); the relative difference is |a_meltline − a_pyslm| / a_pyslm over layers
where PySLM's cross-section is not empty (a layer only one tool has counts as a mismatch).
"""

import json
import re
import sys


def read_cpu_s(path):
    """User + system CPU seconds from `/usr/bin/time -v` output (less sensitive than the wall
    clock to other jobs on a shared machine); None when unavailable."""
    if path in (None, "-"):
        return None
    try:
        text = open(path).read()
    except OSError:
        return None
    user = re.search(r"User time \(seconds\):\s*([\d.]+)", text)
    system = re.search(r"System time \(seconds\):\s*([\d.]+)", text)
    if not user or not system:
        return None
    return float(user.group(1)) + float(system.group(1))


def read_time_v(path):
    """Peak RSS (MB) and wall clock (s) from `/usr/bin/time -v` output; None when unavailable."""
    if path in (None, "-"):
        return None, None
    try:
        text = open(path).read()
    except OSError:
        return None, None
    rss = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", text)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\):\s*([\d:.]+)", text)
    peak_mb = int(rss.group(1)) / 1024.0 if rss else None
    wall_s = None
    if wall:
        secs = 0.0
        for part in wall.group(1).split(":"):
            secs = secs * 60.0 + float(part)
        wall_s = secs
    return peak_mb, wall_s


def load_json(path):
    if path in (None, "-"):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def stage_times(stats):
    """(load, slice, hatch, total) seconds from a stats/pyslm JSON's `timings_s`, tolerant of naming."""
    tm = (stats or {}).get("timings_s") or {}
    if not isinstance(tm, dict):
        return None, None, None, None

    def pick(*names):
        for n in names:
            if isinstance(tm.get(n), (int, float)):
                return float(tm[n])
        return None

    load = pick("load", "read", "load_mesh")
    slc = pick("slice", "slicing")
    hatch = pick("hatch", "hatching", "scan", "vectors")
    total = pick("total")
    if total is None:
        parts = [v for v in (load, slc, hatch) if v is not None]
        total = sum(parts) if parts else None
    return load, slc, hatch, total


def area_agreement(pyslm, meltline):
    """(max relative difference, index of that layer, layers compared, layer-count note)."""
    p_layers = {l["index"]: l for l in pyslm.get("layers", [])}
    m_layers = {l["index"]: l for l in meltline.get("layers", [])}
    worst, worst_i, compared = 0.0, None, 0
    for i in sorted(set(p_layers) | set(m_layers)):
        a_p = p_layers.get(i, {}).get("area_mm2", 0.0)
        a_m = m_layers.get(i, {}).get("area_mm2", 0.0)
        if a_p <= 0.0 and a_m <= 0.0:
            continue
        rel = abs(a_m - a_p) / a_p if a_p > 0.0 else float("inf")
        compared += 1
        if rel > worst:
            worst, worst_i = rel, i
    note = "" if len(p_layers) == len(m_layers) else f"layers {len(m_layers)} vs {len(p_layers)}"
    return worst, worst_i, compared, note


def fmt(v, spec, missing="pending"):
    return missing if v is None else format(v, spec)


def totals(stats, key):
    if not stats:
        return None
    t = stats.get("totals") or {}
    if key in t:
        return t[key]
    layers = stats.get("layers") or []
    return sum(l.get(key, 0) for l in layers) if layers else None


def main(argv):
    if argv and argv[0] == "--pick-median":
        walls = [(read_time_v(p)[1] or float("inf"), k) for k, p in enumerate(argv[1:])]
        if not walls:
            return 2
        walls.sort()
        print(walls[(len(walls) - 1) // 2][1])
        return 0
    markdown = False
    if argv and argv[0] == "--markdown":
        markdown, argv = True, argv[1:]
    if len(argv) == 0 or len(argv) % 5 != 0:
        sys.stderr.write(__doc__)
        return 2
    rows = []
    for k in range(0, len(argv), 5):
        name, p_json, p_time, m_json, m_time = argv[k:k + 5]
        p = load_json(p_json)
        m = load_json(m_json)
        if p is None:
            sys.stderr.write(f"{name}: no PySLM result at {p_json}\n")
            return 1
        p_mem, p_wall = read_time_v(p_time)
        m_mem, m_wall = read_time_v(m_time) if m is not None else (None, None)
        p_load, p_slice, p_hatch, p_total = stage_times(p)
        m_load, m_slice, m_hatch, m_total = stage_times(m)
        if m is not None:
            worst, worst_i, compared, note = area_agreement(p, m)
            agree = f"{100 * worst:.4f} % (layer {worst_i}; {compared} layers{'; ' + note if note else ''})"
        else:
            agree = "pending"
        ratio = p_wall / m_wall if p_wall and m_wall else None
        stage_ratio = p_total / m_total if p_total and m_total else None
        p_cpu = read_cpu_s(p_time)
        m_cpu = read_cpu_s(m_time) if m is not None else None
        cpu_ratio = p_cpu / m_cpu if p_cpu and m_cpu else None
        rows.append({
            "mesh": name,
            "triangles": p.get("triangles"),
            "layers": len(p.get("layers", [])),
            "pyslm_load_slice_hatch_s": f"{fmt(p_load, '.2f')} / {fmt(p_slice, '.2f')} / {fmt(p_hatch, '.2f')}",
            "pyslm_wall_s": fmt(p_wall, ".2f"),
            "pyslm_cpu_s": fmt(p_cpu, ".2f"),
            "pyslm_peak_mb": fmt(p_mem, ".0f"),
            "meltline_load_slice_hatch_s": f"{fmt(m_load, '.3f')} / {fmt(m_slice, '.3f')} / {fmt(m_hatch, '.3f')}",
            "meltline_wall_s": fmt(m_wall, ".3f"),
            "meltline_cpu_s": fmt(m_cpu, ".3f"),
            "meltline_peak_mb": fmt(m_mem, ".0f"),
            "speedup_wall": fmt(ratio, ".1f") + ("×" if ratio else ""),
            "speedup_stages": fmt(stage_ratio, ".1f") + ("×" if stage_ratio else ""),
            "speedup_cpu": fmt(cpu_ratio, ".1f") + ("×" if cpu_ratio else ""),
            "area_max_rel_diff": agree,
            "pyslm_vectors_contour_hatch": f"{totals(p, 'contour_vectors')} / {totals(p, 'hatch_vectors')}",
            "meltline_vectors_contour_hatch": (
                f"{totals(m, 'contour_vectors')} / {totals(m, 'hatch_vectors')}" if m else "pending"),
            "contour_length_mm_pyslm_meltline": (
                f"{fmt(totals(p, 'contour_length_mm'), '.0f')} / {fmt(totals(m, 'contour_length_mm'), '.0f')}"),
            "pyslm_hatch_errors": totals(p, "hatch_errors"),
            "pyslm_total_s": fmt(p_total, ".2f"),
            "meltline_total_s": fmt(m_total, ".3f"),
        })
    cols = list(rows[0].keys())
    if markdown:
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for r in rows:
            print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    else:
        for r in rows:
            print(r["mesh"])
            for c in cols[1:]:
                print(f"  {c:34s} {r[c]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
