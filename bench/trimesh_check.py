"""trimesh's equivalent of `meltline check`: load, is_watertight, is_winding_consistent.

Prints the stage times (s) and the verdicts, one line of JSON, for check_vs_trimesh.sh.
"""
import json
import sys
import time

import trimesh

path = sys.argv[1]
t0 = time.perf_counter()
mesh = trimesh.load(path, force="mesh", process=True)
t1 = time.perf_counter()
watertight = bool(mesh.is_watertight)
winding = bool(mesh.is_winding_consistent)
t2 = time.perf_counter()
print(json.dumps({
    "file": path,
    "triangles": int(len(mesh.faces)),
    "watertight": watertight,
    "winding_consistent": winding,
    "load_s": round(t1 - t0, 3),
    "check_s": round(t2 - t1, 3),
}))
