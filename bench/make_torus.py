"""Writes a closed torus as binary STL: 2·nu·nv triangles (the benchmark's big input)."""
import sys

import numpy as np

path, nu, nv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
R, r = 40.0, 12.0
u = np.linspace(0, 2 * np.pi, nu, endpoint=False)
v = np.linspace(0, 2 * np.pi, nv, endpoint=False)
uu, vv = np.meshgrid(u, v, indexing="ij")
rad = R + r * np.cos(vv)
pts = np.stack([rad * np.cos(uu), rad * np.sin(uu), r * np.sin(vv)], axis=-1).reshape(-1, 3)
i, j = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
a = i * nv + j
b = ((i + 1) % nu) * nv + j
c = ((i + 1) % nu) * nv + (j + 1) % nv
d = i * nv + (j + 1) % nv
faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
tri = pts[faces].astype(np.float32)
n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
n /= np.linalg.norm(n, axis=1, keepdims=True)
rec = np.zeros(len(faces), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
rec["n"] = n
rec["v"] = tri
with open(path, "wb") as f:
    f.write(b"meltline benchmark torus".ljust(80, b" "))
    f.write(np.uint32(len(faces)).tobytes())
    f.write(rec.tobytes())
print(f"{path}: {len(faces)} triangles")
