#!/usr/bin/env python3
"""Slice and hatch a mesh with PySLM (PyPI PythonSLM 0.6.x), the reference peer of `meltline slice`.

Same conventions as meltline: layer i is cut at z_min + (i + 0.5)·t; one or more contours, the
outermost inset by the beam offset (PySLM's spot compensation), the next ones by the contour
spacing; meander hatching at the hatch distance, rotated by `rotation` degrees per layer.

Prints (or writes with --out) JSON:
  {"tool", "mesh", "triangles", "layer_thickness_mm", "params": {...},
   "timings_s": {"load", "slice", "hatch", "total"},
   "layers": [{"index", "z_mm", "area_mm2", "contour_vectors", "hatch_vectors",
               "contour_length_mm", "hatch_length_mm"}],
   "totals": {"layers", "area_mm2", "contour_vectors", "hatch_vectors",
              "contour_length_mm", "hatch_length_mm"}}

`area_mm2` is the area enclosed by the cross-section before any offset (the trimesh section as
shapely polygons, before PySLM's 1 µm "fix" buffer). Timings cover only PySLM's own work: the
loading and processing of the mesh, the cross-sections (including the fix buffer and the
conversion to paths that `Part.getVectorSlice` does), and `Hatcher.hatch`; the areas, counts and
lengths are measured outside the timers.
"""

import argparse
import itertools
import json
import math
import sys
import time

import numpy as np


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mesh", help="mesh file (STL, …) readable by trimesh")
    p.add_argument("--layer", type=float, default=0.03, help="layer thickness, mm (default 0.03)")
    p.add_argument("--hatch", type=float, default=0.1, help="hatch distance, mm (default 0.1)")
    p.add_argument("--rotation", type=float, default=66.7, help="hatch rotation per layer, degrees (default 66.7)")
    p.add_argument("--contours", type=int, default=1, help="number of contours (default 1)")
    p.add_argument("--beam-offset", type=float, default=0.05, help="inset of the outermost contour, mm (default 0.05)")
    p.add_argument("--contour-spacing", type=float, default=None,
                   help="inset between successive contours, mm (default: 2 × beam offset)")
    p.add_argument("--hatch-offset", type=float, default=None,
                   help="distance from the innermost contour to the hatch boundary, mm (default: the beam offset)")
    p.add_argument("--max-layers", type=int, default=None, help="stop after this many layers (for quick checks)")
    p.add_argument("--out", default=None, help="write the JSON here instead of stdout")
    return p.parse_args(argv)


def polyline_length(coords):
    d = np.diff(np.asarray(coords)[:, :2], axis=0)
    return float(np.sqrt((d * d).sum(axis=1)).sum())


def main(argv):
    args = parse_args(argv)
    import pyslm
    import pyslm.hatching as hatching
    from pyslm.hatching import utils as hatch_utils

    t0 = time.perf_counter()
    part = pyslm.Part("bench")
    part.setGeometry(args.mesh)
    bbox = part.boundingBox  # builds PySLM's transformed geometry cache
    t_load = time.perf_counter() - t0

    z_min, z_max = float(bbox[2]), float(bbox[5])
    t = args.layer
    n_layers = max(0, math.ceil((z_max - z_min) / t - 0.5))
    if args.max_layers is not None:
        n_layers = min(n_layers, args.max_layers)

    hatcher = hatching.Hatcher()
    hatcher.hatchDistance = args.hatch
    hatcher.numOuterContours = args.contours
    hatcher.numInnerContours = 0
    hatcher.spotCompensation = args.beam_offset
    hatcher.contourOffset = args.contour_spacing if args.contour_spacing is not None else 2.0 * args.beam_offset
    hatcher.volumeOffsetHatch = args.hatch_offset if args.hatch_offset is not None else args.beam_offset
    hatcher.layerAngleIncrement = 0.0

    t_slice = 0.0
    t_hatch = 0.0
    layers = []
    for i in range(n_layers):
        z = z_min + (i + 0.5) * t

        s0 = time.perf_counter()
        # What Part.getVectorSlice(z) does, split so the area can be read before the fix buffer.
        polygons = part.getVectorSlice(z, returnCoordPaths=False, fixPolygons=False)
        fixed = [poly.buffer(pyslm.Part.POLYGON_FIX_EPSILON) for poly in polygons]
        paths = list(itertools.chain.from_iterable(hatch_utils.poly2Paths(p) for p in fixed))
        t_slice += time.perf_counter() - s0

        area = float(sum(p.area for p in polygons))

        h0 = time.perf_counter()
        # PySLM's own per-layer rotation idiom: the hatch angle is advanced for every layer.
        hatcher.hatchAngle = (i * args.rotation) % 360.0
        hatch_error = None
        try:
            layer = hatcher.hatch(paths) if paths else None
        except (IndexError, ValueError) as e:
            # PySLM 0.6.1's Hatcher raises on some layers (e.g. an empty clipped-hatch array:
            # IndexError in Hatcher.hatch); record it and go on, as a build processor would have to.
            layer, hatch_error = None, f"{type(e).__name__}: {e}"
        t_hatch += time.perf_counter() - h0

        contour_vectors = hatch_vectors = 0
        contour_len = hatch_len = 0.0
        if layer is not None:
            for g in layer.getContourGeometry():
                contour_vectors += max(0, len(g.coords) - 1)
                contour_len += polyline_length(g.coords)
            for g in layer.getHatchGeometry():
                c = np.asarray(g.coords)[:, :2].reshape(-1, 2, 2)
                hatch_vectors += len(c)
                d = c[:, 1, :] - c[:, 0, :]
                hatch_len += float(np.sqrt((d * d).sum(axis=1)).sum())
        entry = {
            "index": i,
            "z_mm": z - z_min,
            "area_mm2": area,
            "contour_vectors": contour_vectors,
            "hatch_vectors": hatch_vectors,
            "contour_length_mm": contour_len,
            "hatch_length_mm": hatch_len,
        }
        if hatch_error:
            entry["hatch_error"] = hatch_error
        layers.append(entry)

    out = {
        "tool": "pyslm",
        "version": getattr(pyslm, "__version__", "unknown"),
        "mesh": args.mesh,
        "triangles": int(len(part.geometry.faces)),
        "layer_thickness_mm": t,
        "params": {
            "hatch_mm": args.hatch,
            "rotation_deg": args.rotation,
            "contours": args.contours,
            "beam_offset_mm": args.beam_offset,
            "contour_spacing_mm": hatcher.contourOffset,
            "hatch_offset_mm": hatcher.volumeOffsetHatch,
        },
        "timings_s": {"load": t_load, "slice": t_slice, "hatch": t_hatch, "total": t_load + t_slice + t_hatch},
        "layers": layers,
        "totals": {
            "layers": len(layers),
            "area_mm2": sum(l["area_mm2"] for l in layers),
            "contour_vectors": sum(l["contour_vectors"] for l in layers),
            "hatch_vectors": sum(l["hatch_vectors"] for l in layers),
            "contour_length_mm": sum(l["contour_length_mm"] for l in layers),
            "hatch_length_mm": sum(l["hatch_length_mm"] for l in layers),
            "hatch_errors": sum(1 for l in layers if "hatch_error" in l),
        },
    }
    text = json.dumps(out, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")
    tm = out["timings_s"]
    print(f"pyslm {args.mesh}: {len(layers)} layers, load {tm['load']:.2f} s, slice {tm['slice']:.2f} s, "
          f"hatch {tm['hatch']:.2f} s, total {tm['total']:.2f} s, "
          f"layers where PySLM's hatcher raised: {out['totals']['hatch_errors']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
