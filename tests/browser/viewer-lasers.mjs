// Opens a build report of a job planned on lasers, chooses "kind" and then "laser" in the
// viewer's "colour by" select as a user does, and prints what the page shows as JSON:
//
//   VIEWER_LASERS='{"report": "REPORT.html", "points": [[x_mm, y_mm], ...]}' node viewer-lasers.mjs
//
// { "options": [...], "initial": {...}, "byKind": {...}, "byLaser": {...}, "consoleErrors": [...] }
// with each state's select value, legend, figures, the canvas pixels at the points and the
// layer drawn. The Rust test (host/tests/report_browser.rs) decides what is right.
import { withReport } from "./open-report.mjs";

const { report, points } = JSON.parse(process.env.VIEWER_LASERS || "{}");
if (!report || !Array.isArray(points)) {
  console.error("usage: VIEWER_LASERS='{\"report\": R, \"points\": [[x, y]]}' node viewer-lasers.mjs");
  process.exit(2);
}
await withReport(report, async (page) => {
  const read = () => page.evaluate((pts) => {
    const figures = {};
    for (const dd of document.querySelectorAll("#viewer-figures dd")) figures[dd.dataset.figure] = dd.textContent;
    return {
      colourBy: document.getElementById("viewer-colour").value,
      legend: Array.from(document.querySelectorAll("#viewer-legend div")).map((d) => d.textContent),
      figures,
      pixels: pts.map(([x, y]) => window.meltlineViewer.pixelAtMm(x, y)),
      drawnLayer: window.meltlineViewer.layer(),
    };
  }, points);
  const state = { options: await page.$$eval("#viewer-colour option", (o) => o.map((e) => e.value)) };
  state.initial = await read();
  await page.selectOption("#viewer-colour", "kind");
  state.byKind = await read();
  await page.selectOption("#viewer-colour", "laser");
  state.byLaser = await read();
  return state;
});
