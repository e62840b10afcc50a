// Checks a built ims site the way a browser and a validator see it:
//   node check.mjs SITE_DIR SHOTS_DIR
// 1. every .html file is valid HTML (html-validate, recommended rules);
// 2. one page of each kind (each folder's list and one record page, each top-level page)
//    passes axe-core in headless Chromium (Debian's, driven by playwright-core), served
//    over loopback HTTP;
// 3. the front page (the status page on a public site, the dashboard on an internal
//    one), the other of the two, an incident page, the incident list, a report page and
//    the search page are screenshot at 1,400 and 390 px wide into SHOTS_DIR, and none
//    may scroll sideways;
// 4. search works opened from disk (file://): the knowledge base's search box finds an
//    article by a word of its text, and the search page an incident by its title.
// Prints one JSON line {ok, pages, axe_pages, shots, problems}; exits 1 when anything fails.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { extname, join, normalize, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { HtmlValidate } from "html-validate";
import { chromium } from "playwright-core";

const [siteDir, shotsDir] = process.argv.slice(2);
if (!siteDir || !shotsDir) {
  console.error("usage: node check.mjs SITE_DIR SHOTS_DIR");
  process.exit(2);
}

function htmlFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return htmlFiles(path);
    return name.endsWith(".html") ? [path] : [];
  });
}

const problems = [];
const shots = [];
const files = htmlFiles(siteDir).sort();

// 1. Valid HTML.
const validator = new HtmlValidate({
  extends: ["html-validate:recommended"],
  rules: {
    // Inline SVG charts carry their own styles; long tables are fine.
    "no-inline-style": "off",
  },
});
for (const file of files) {
  const report = await validator.validateFile(file);
  for (const result of report.results) {
    for (const m of result.messages) {
      problems.push(`${relative(siteDir, file)}:${m.line}:${m.column} html ${m.ruleId}: ${m.message}`);
    }
  }
}

// 2. Accessibility: the first page of each kind (the folder it lives in).
const kinds = new Map();
for (const file of files) {
  const rel = relative(siteDir, file);
  // A folder's list, and its record pages, are two kinds; the audit log's pages one.
  const folder = rel.includes("/") ? rel.split("/")[0] : "";
  const kind = folder === "" ? rel : rel.endsWith("/index.html") ? `${folder}/list` : `${folder}/page`;
  if (!kinds.has(kind)) kinds.set(kind, rel);
}
const types = { ".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".json": "application/json", ".xml": "application/atom+xml" };
const server = createServer((req, res) => {
  const path = normalize(join(siteDir, decodeURIComponent(new URL(req.url, "http://x").pathname)));
  try {
    const body = readFileSync(path.endsWith("/") ? join(path, "index.html") : path);
    res.writeHead(200, { "Content-Type": types[extname(path)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  for (const rel of kinds.values()) {
    const response = await page.goto(base + rel);
    if (!response || response.status() !== 200) {
      problems.push(`${rel}: HTTP ${response?.status()}`);
      continue;
    }
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
    for (const v of result.violations) {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
      problems.push(`${rel} axe ${v.id} (${v.impact}): ${v.help} at ${where}`);
    }
  }
  // 4. Search from disk.
  let query = null;
  const indexFile = join(siteDir, "search-index.js");
  if (existsSync(indexFile)) {
    const text = readFileSync(indexFile, "utf8");
    const entries = JSON.parse(text.slice(text.indexOf("=") + 1).trim().replace(/;$/, ""));
    const search = async (rel, words, want) => {
      const p = await browser.newPage();
      await p.goto(pathToFileURL(join(siteDir, rel)).href);
      await p.fill("#q", words);
      const hrefs = await p.$$eval("#hits a", (as) => as.map((a) => a.href));
      if (!hrefs.some((h) => h.endsWith("/" + want[4]))) problems.push(`${rel} from file://: "${words}" did not find ${want[1]} (${hrefs.length} hits)`);
      await p.close();
    };
    const kb = entries.find((e) => e[0] === "kb");
    if (kb) {
      const title = kb[2].toLowerCase();
      const word = kb[3].split(/[^A-Za-z]+/).find((w) => w.length > 4 && !title.includes(w.toLowerCase())) ?? kb[1];
      await search("kb/index.html", word, kb);
    }
    const inc = entries.find((e) => e[0] === "incident");
    if (inc) {
      query = inc[2];
      await search("search.html", inc[2], inc);
    }
  }
  // 3. Screenshots at desktop and phone width; nothing may scroll sideways.
  mkdirSync(shotsDir, { recursive: true });
  const pick = (dir) => files.map((f) => relative(siteDir, f)).find((r) => r.startsWith(dir + "/") && !r.endsWith("/index.html"));
  const targets = [
    ["front", "index.html"],
    ["status", existsSync(join(siteDir, "status.html")) ? "status.html" : null],
    ["dashboard", existsSync(join(siteDir, "dashboard.html")) ? "dashboard.html" : null],
    ["incident", pick("incidents")],
    ["incidents", existsSync(join(siteDir, "incidents/index.html")) ? "incidents/index.html" : null],
    ["report", pick("reports")],
    ["search", query ? `search.html?q=${encodeURIComponent(query.split(" ")[0])}` : null],
  ].filter(([, rel]) => rel);
  for (const width of [1400, 390]) {
    const shot = await browser.newPage({ viewport: { width, height: 900 } });
    for (const [name, rel] of targets) {
      await shot.goto(base + rel);
      await shot.waitForLoadState("load");
      const wide = await shot.evaluate(() => document.documentElement.scrollWidth);
      if (wide > width) problems.push(`${rel} at ${width} px: ${wide} px wide, scrolls sideways`);
      await shot.screenshot({ path: join(shotsDir, `${name}-${width}.png`), fullPage: true });
      shots.push(`${name}-${width}.png`);
    }
    await shot.close();
  }
} finally {
  await browser.close();
  server.close();
}

console.log(JSON.stringify({ ok: problems.length === 0, pages: files.length, axe_pages: kinds.size, shots, problems }));
process.exit(problems.length === 0 ? 0 : 1);
