// Opens a build report in headless Chromium and waits until its layer viewer is ready; what
// the viewer scripts (viewer-check.mjs, viewer-lasers.mjs) share. Console errors, page errors
// and failed requests are collected in `consoleErrors`.
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";
import { existsSync } from "node:fs";

export async function openReport(report) {
  const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    console.error(`no browser at ${executablePath}`);
    process.exit(3);
  }
  const browser = await chromium.launch({
    executablePath,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("requestfailed", (r) => consoleErrors.push(`request failed: ${r.url()}`));
  try {
    await page.goto(pathToFileURL(report).href, { waitUntil: "load" });
    await page.waitForFunction(() => window.meltlineViewer !== undefined, null, { timeout: 20000 });
    await page.evaluate(() => window.meltlineViewer.ready);
  } catch (e) {
    await browser.close();
    throw e;
  }
  return { browser, page, consoleErrors };
}

// Runs `body(page, consoleErrors)` on the opened report and prints what it returns as JSON;
// exit status 2 on browser errors.
export async function withReport(report, body) {
  let opened;
  try {
    opened = await openReport(report);
    const state = await body(opened.page, opened.consoleErrors);
    state.consoleErrors = opened.consoleErrors;
    console.log(JSON.stringify(state));
  } catch (e) {
    console.error(String(e && e.stack || e));
    process.exitCode = 2;
  } finally {
    if (opened) await opened.browser.close();
  }
}
