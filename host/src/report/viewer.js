// The build report's layer viewer: inflates the embedded vectors (format in report/viewer.rs),
// draws one layer on the canvas, and publishes its state as window.meltlineViewer so a browser
// test can read what is shown.
"use strict";
(function () {
  const KIND_COLOURS = ["#d62728", "#1f77b4", "#9467bd", "#e6550d", "#2ca02c"]; // as in previews (picture.rs)
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
  const DRAW_ORDER = [3, 1, 2, 4, 0]; // supports, hatches, edges, points, contours on top
  const meta = JSON.parse(document.getElementById("viewer-meta").textContent);
  // Laser 0 … 7, the palette of previews and exposure maps; laser i past 7 takes i mod 8's.
  const LASER_COLOURS = meta.laser_colours;
  const canvas = document.getElementById("viewer-canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const slider = document.getElementById("viewer-slider");
  const label = document.getElementById("viewer-layer");
  const figures = document.getElementById("viewer-figures");
  const legend = document.getElementById("viewer-legend");
  const colourBy = document.getElementById("viewer-colour");
  const exposure = document.getElementById("viewer-exposure");
  const state = { layer: 0, drawn: -1, scale: 1, ox: 0, oy: 0, bytes: null };
  const paramIndex = new Map(meta.param_sets.map((p, i) => [p.id, p]));

  function fit() {
    const [x0, y0, x1, y1] = meta.bounds;
    const w = Math.max(x1 - x0, 1), h = Math.max(y1 - y0, 1);
    state.scale = 0.92 * Math.min(canvas.width / w, canvas.height / h);
    state.ox = canvas.width / 2 - state.scale * (x0 + x1) / 2;
    state.oy = canvas.height / 2 + state.scale * (y0 + y1) / 2;
  }
  // Grid units → canvas pixels (y up on the plate, down on the canvas).
  const px = (x) => state.ox + state.scale * x;
  const py = (y) => state.oy - state.scale * y;

  function decodeLayer(layer) {
    const b = state.bytes;
    let at = meta.offsets[layer];
    const u = () => {
      let v = 0, shift = 1;
      for (;;) {
        const c = b[at++];
        v += (c & 0x7f) * shift;
        if (c < 0x80) return v;
        shift *= 128;
      }
    };
    const z = () => { const v = u(); return v % 2 === 0 ? v / 2 : -(v + 1) / 2; };
    const blocks = [];
    let cx = 0, cy = 0;
    for (let n = u(); n > 0; n--) {
      const kind = u(), param = u(), region = u();
      const laser = meta.block_lasers ? u() : 0;
      const count = u();
      const xy = new Float64Array(4 * count);
      for (let i = 0; i < count; i++) {
        const fx = cx + z(), fy = cy + z();
        cx = fx + z(); cy = fy + z();
        xy.set([fx, fy, cx, cy], 4 * i);
      }
      blocks.push({ kind, param, region, laser, xy });
    }
    return blocks;
  }

  function colourOf(block) {
    if (colourBy.value === "param") return PALETTE[block.param % PALETTE.length];
    if (colourBy.value === "region") return PALETTE[block.region % PALETTE.length];
    if (colourBy.value === "laser") return LASER_COLOURS[block.laser % LASER_COLOURS.length];
    return KIND_COLOURS[block.kind] || "#000";
  }

  function stroke(c, xy, width, colour) {
    c.strokeStyle = colour;
    c.lineWidth = width;
    c.beginPath();
    for (let i = 0; i < xy.length; i += 4) {
      c.moveTo(px(xy[i]), py(xy[i + 1]));
      c.lineTo(px(xy[i + 2]), py(xy[i + 3]));
    }
    c.stroke();
  }

  // Melt tracks at their width (spot; hatch distance for hatches), as the simulator's
  // exposure map rasterises them; drawn opaque off screen, then laid over translucently.
  function drawExposure(blocks) {
    const off = document.createElement("canvas");
    off.width = canvas.width; off.height = canvas.height;
    const c = off.getContext("2d");
    c.lineCap = "round";
    for (const b of blocks) {
      if (b.kind === 3) continue;
      const p = paramIndex.get(b.param);
      const mm = p ? (b.kind === 1 ? p.hatch_track_mm : p.spot_mm) : meta.grid_mm;
      stroke(c, b.xy, Math.max(1, state.scale * mm / meta.grid_mm), "#ff9800");
    }
    ctx.globalAlpha = 0.4;
    ctx.drawImage(off, 0, 0);
    ctx.globalAlpha = 1;
  }

  function drawScale() {
    const mmPerPx = meta.grid_mm / state.scale;
    const target = 120 * mmPerPx;
    const step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100].find((s) => s >= target / 2) || 100;
    const len = step / mmPerPx, x = 16, y = canvas.height - 18;
    ctx.fillStyle = "#222"; ctx.strokeStyle = "#222"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + len, y); ctx.stroke();
    ctx.font = "12px sans-serif";
    ctx.fillText(step + " mm", x, y - 6);
    const zTop = (state.layer + 1) * meta.layer_mm;
    ctx.fillText("layer " + state.layer + " · z " + zTop.toFixed(3) + " mm", 16, 20);
  }

  function fmt(v, digits, unit) {
    return v === null || v === undefined ? "—" : v.toFixed(digits) + (unit ? " " + unit : "");
  }

  function showFigures(layer, blocks) {
    const f = meta.figures, v = f.vectors[layer] || [0, 0, 0, 0, 0];
    const rows = [
      ["layer", layer + " of " + (meta.layers - 1)],
      ["z (top)", fmt((layer + 1) * meta.layer_mm, 3, "mm")],
      ["vectors", String(v.reduce((a, b) => a + b, 0))],
    ];
    meta.kinds.forEach((k, i) => rows.push(["  " + k, String(v[i])]));
    if (meta.block_lasers) {
      const perLaser = new Array(meta.lasers).fill(0);
      for (const b of blocks) perLaser[b.laser] = (perLaser[b.laser] || 0) + b.xy.length / 4;
      perLaser.forEach((n, i) => rows.push(["  laser " + i, String(n)]));
    }
    rows.push(
      ["mark length", fmt(f.mark_mm[layer], 1, "mm")],
      ["est. time", fmt(f.est_s[layer], 2, "s")],
      ["executed time", fmt(f.exec_s[layer], 2, "s")],
      ["energy", fmt(f.energy_j[layer], 1, "J")],
      ["coverage", fmt(f.coverage_pct[layer], 2, "%")],
      ["spill", fmt(f.spill_pct[layer], 2, "%")],
      ["support area", fmt(f.support_mm2[layer], 2, "mm²")],
    );
    figures.replaceChildren(...rows.flatMap(([k, val]) => {
      const dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = k; dd.textContent = val;
      dd.dataset.figure = k.trim();
      return [dt, dd];
    }));
  }

  function showLegend() {
    const lasers = Array.from({ length: meta.lasers }, (_, i) => i);
    const names = colourBy.value === "kind" ? meta.kinds
      : colourBy.value === "region" ? meta.regions
      : colourBy.value === "laser" ? lasers.map((i) => "laser " + i)
      : meta.param_sets.map((p) => "parameter set " + p.id);
    const colours = colourBy.value === "kind" ? KIND_COLOURS
      : colourBy.value === "region" ? meta.regions.map((_, i) => PALETTE[i % PALETTE.length])
      : colourBy.value === "laser" ? lasers.map((i) => LASER_COLOURS[i % LASER_COLOURS.length])
      : meta.param_sets.map((p) => PALETTE[p.id % PALETTE.length]);
    legend.replaceChildren(...names.map((n, i) => {
      const d = document.createElement("div"), s = document.createElement("span");
      s.className = "swatch"; s.style.background = colours[i];
      d.append(s, n);
      return d;
    }));
  }

  function draw() {
    const layer = state.layer;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const blocks = decodeLayer(layer);
    if (exposure.checked) drawExposure(blocks);
    ctx.lineCap = "round";
    for (const kind of DRAW_ORDER) {
      for (const b of blocks) {
        if (b.kind !== kind) continue;
        const width = kind === 0 || kind === 2 || kind === 3 ? 2 : kind === 4 ? 3 : 1;
        stroke(ctx, b.xy, width, colourOf(b));
      }
    }
    drawScale();
    showFigures(layer, blocks);
    label.textContent = String(layer);
    canvas.dataset.layer = String(layer);
    state.drawn = layer;
  }

  function setLayer(n) {
    const layer = Math.max(0, Math.min(meta.layers - 1, Math.round(Number(n)) || 0));
    state.layer = layer;
    slider.value = String(layer);
    if (state.bytes) draw();
  }

  function zoom(factor, cx, cy) {
    state.ox = cx - (cx - state.ox) * factor;
    state.oy = cy - (cy - state.oy) * factor;
    state.scale *= factor;
    draw();
  }

  slider.addEventListener("input", () => setLayer(slider.value));
  colourBy.addEventListener("change", () => { showLegend(); draw(); });
  exposure.addEventListener("change", draw);
  document.getElementById("viewer-zoom-in").addEventListener("click", () => zoom(1.5, canvas.width / 2, canvas.height / 2));
  document.getElementById("viewer-zoom-out").addEventListener("click", () => zoom(1 / 1.5, canvas.width / 2, canvas.height / 2));
  document.getElementById("viewer-fit").addEventListener("click", () => { fit(); draw(); });
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t !== slider && t !== canvas && t !== document.body) return;
    const step = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 }[e.key];
    if (e.key === "Home") setLayer(0);
    else if (e.key === "End") setLayer(meta.layers - 1);
    else if (step !== undefined) setLayer(state.layer + step);
    else return;
    e.preventDefault();
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    const k = canvas.width / r.width;
    zoom(e.deltaY < 0 ? 1.25 : 0.8, (e.clientX - r.left) * k, (e.clientY - r.top) * k);
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("pointerdown", (e) => { drag = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const r = canvas.getBoundingClientRect(), k = canvas.width / r.width;
    state.ox += (e.clientX - drag[0]) * k; state.oy += (e.clientY - drag[1]) * k;
    drag = [e.clientX, e.clientY];
    draw();
  });
  canvas.addEventListener("pointerup", () => { drag = null; });

  async function load() {
    const text = document.getElementById("viewer-data").textContent.trim();
    const bin = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    const inflated = new Blob([bin]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    state.bytes = new Uint8Array(await new Response(inflated).arrayBuffer());
    fit();
    showLegend();
    setLayer(slider.value);
  }

  window.meltlineViewer = {
    ready: load(),
    layerCount: meta.layers,
    layer: () => state.drawn,
    setLayer,
    // Canvas coordinates (px, y down) of plate coordinates (mm) in the current view.
    canvasAtMm: (xMm, yMm) => [px(xMm / meta.grid_mm), py(yMm / meta.grid_mm)],
    // Canvas pixel [r, g, b, a] at plate coordinates (mm) in the current view.
    pixelAtMm(xMm, yMm) {
      const x = Math.floor(px(xMm / meta.grid_mm)), y = Math.floor(py(yMm / meta.grid_mm));
      return Array.from(ctx.getImageData(x, y, 1, 1).data);
    },
  };
})();
