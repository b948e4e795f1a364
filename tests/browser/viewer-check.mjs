// Opens a build report in headless Chromium, moves the layer viewer to a layer with the
// keyboard, and prints what the page shows as JSON on standard output:
//
//   node viewer-check.mjs REPORT.html LAYER X_MM,Y_MM [X_MM,Y_MM ...]
//
// { "layerShown": "7", "canvasLayer": "7", "figures": {...}, "pixels": [[r,g,b,a], ...],
//   "sections": [...], "zoomedPixels": [...], "zoomedLayer": 7, "consoleErrors": [...] }
//
// The Rust test (host/tests/report_browser.rs) decides what is right; this script only reads
// the page's state (the viewer's text, its canvas pixels), it takes no screenshot.
// Exit status 0 when the page was read, 2 on usage or browser errors.
import { withReport } from "./open-report.mjs";

const [report, layerText, ...points] = process.argv.slice(2);
if (!report || layerText === undefined) {
  console.error("usage: node viewer-check.mjs REPORT.html LAYER X_MM,Y_MM ...");
  process.exit(2);
}
const layer = Number(layerText);
await withReport(report, async (page) => {
  // Move like a user: focus the slider, Home, then the right arrow LAYER times.
  await page.focus("#viewer-slider");
  await page.keyboard.press("Home");
  for (let i = 0; i < layer; i++) await page.keyboard.press("ArrowRight");
  const state = await page.evaluate((pts) => {
    const v = window.meltlineViewer;
    const figures = {};
    for (const dd of document.querySelectorAll("#viewer-figures dd")) figures[dd.dataset.figure] = dd.textContent;
    return {
      layerShown: document.getElementById("viewer-layer").textContent,
      canvasLayer: document.getElementById("viewer-canvas").dataset.layer,
      drawnLayer: v.layer(),
      sliderValue: document.getElementById("viewer-slider").value,
      figures,
      pixels: pts.map(([x, y]) => v.pixelAtMm(x, y)),
      scale: v.canvasAtMm(1, 0)[0] - v.canvasAtMm(0, 0)[0],
      sections: Array.from(document.querySelectorAll("section[id]")).map((s) => s.id),
    };
  }, points.map((p) => p.split(",").map(Number)));
  // Zoom in with the wheel over the first point, then pan by dragging: the contour stays
  // under its plate coordinates (the view transform moved with it).
  const box = await page.locator("#viewer-canvas").boundingBox();
  const [first] = points.map((p) => p.split(",").map(Number));
  const [cx, cy] = await page.evaluate(([x, y]) => window.meltlineViewer.canvasAtMm(x, y), first);
  const k = box.width / (await page.evaluate(() => document.getElementById("viewer-canvas").width));
  await page.mouse.move(box.x + cx * k, box.y + cy * k);
  await page.mouse.wheel(0, -200);
  await page.mouse.wheel(0, -200);
  await page.mouse.down();
  await page.mouse.move(box.x + cx * k - 40, box.y + cy * k - 25, { steps: 4 });
  await page.mouse.up();
  state.zoomedScale = await page.evaluate(() => window.meltlineViewer.canvasAtMm(1, 0)[0] - window.meltlineViewer.canvasAtMm(0, 0)[0]);
  state.zoomedPixels = await page.evaluate((pts) => pts.map(([x, y]) => window.meltlineViewer.pixelAtMm(x, y)),
    points.map((p) => p.split(",").map(Number)));
  state.zoomedLayer = await page.evaluate(() => window.meltlineViewer.layer());
  return state;
});
