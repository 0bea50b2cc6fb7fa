import { expect, test, type Page } from "@playwright/test";

// Runs after dashboard.spec.ts has streamed the sample.

type Artist = { rank: number; artist_name: string; plays: number };
type Song = { rank: number; track_uri: string; track_name: string; plays: number };

const count = (n: number) => n.toLocaleString("en-US");

async function api<T>(page: Page, path: string): Promise<T> {
  const response = await page.request.get(path);
  expect(response.status(), path).toBe(200);
  return (await response.json()) as T;
}

/** Presses Tab until the focused element is the link named `name` (within 60 presses). */
async function tabTo(page: Page, name: string) {
  for (let presses = 0; presses < 60; presses++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      return element?.tagName === "A" ? (element.textContent ?? "").trim() : "";
    });
    if (focused === name) return;
  }
  throw new Error(`${name} was not reached with the keyboard`);
}

/** Each chart's smallest text as shown: its font size scaled as its SVG is
 * (drawn in user units, shown at the width of the box it is drawn in). */
async function chartTexts(page: Page): Promise<{ chart: string; px: number }[]> {
  return page.locator(".chart svg").evaluateAll((svgs) =>
    svgs.flatMap((svg) => {
      const element = svg as SVGSVGElement;
      const drawn = element.viewBox.baseVal?.width || element.width.baseVal.value;
      const shown = element.getBoundingClientRect().width;
      const chart = element.parentElement?.getAttribute("aria-label") ?? "a chart";
      return Array.from(element.querySelectorAll("text")).map((text) => ({
        chart,
        px: (parseFloat(text.getAttribute("font-size") ?? "") || parseFloat(getComputedStyle(text).fontSize)) * (shown / drawn),
      }));
    }),
  );
}

/** No text in the page's charts is smaller than 11 CSS px; answers how many charts were measured. */
async function expectReadableCharts(page: Page, where: string): Promise<number> {
  const texts = await chartTexts(page);
  for (const { chart, px } of texts) {
    expect(px, `${chart} on ${where}`).toBeGreaterThanOrEqual(11);
  }
  return new Set(texts.map((text) => text.chart)).size;
}

const pages = [
  { name: "Overview", path: "/", heading: "Totals" },
  { name: "Review", path: "/review", heading: null },
  { name: "Artists", path: "/artists", heading: "Artists" },
  { name: "Songs", path: "/songs", heading: "Songs" },
  { name: "Import", path: "/import", heading: null },
  { name: "Settings", path: "/settings", heading: "Settings" },
];

test("every page is one keyboard step from every other, and the Artists and Songs pages rank the range as the API does", async ({ page }) => {
  await expect
    .poll(async () => ((await api<{ events: number }>(page, "/api/summary")).events), { timeout: 60_000 })
    .toBeGreaterThan(0);
  await page.goto("/");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link")).toHaveText(pages.map((p) => p.name));
  await expect(nav.getByRole("link", { name: "Overview" })).toHaveAttribute("aria-current", "page");

  // To Artists with the keyboard alone: Tab to its link, Enter.
  await tabTo(page, "Artists");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/artists$/);
  await expect(page.getByRole("heading", { name: "Artists", exact: true })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Artists" })).toHaveAttribute("aria-current", "page");
  await expect(nav.getByRole("link", { name: "Overview" })).not.toHaveAttribute("aria-current", "page");
  const rows = (name: string) =>
    page
      .getByRole("table", { name, exact: true })
      .locator("tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) => Array.from(tr.children).slice(0, 3).map((cell) => (cell.querySelector(".title") ?? cell).textContent ?? "")),
      );
  const artists = await api<Artist[]>(page, "/api/top-artists?preset=all-time&limit=100");
  expect(artists.length).toBeGreaterThan(10);
  await expect.poll(() => rows("Artists")).toEqual(artists.map((a) => [String(a.rank), a.artist_name, count(a.plays)]));

  // A preset, then an artist's page, by keyboard too.
  await tabTo(page, "Latest year");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/artists\?preset=latest-year/);
  const latest = await api<Artist[]>(page, "/api/top-artists?preset=latest-year&limit=100");
  await expect.poll(() => rows("Artists")).toEqual(latest.map((a) => [String(a.rank), a.artist_name, count(a.plays)]));
  await tabTo(page, latest[0].artist_name);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: latest[0].artist_name, exact: true })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Artists" })).toHaveAttribute("aria-current", "page");

  // Songs, ranked by listening time.
  await page.goto("/songs?preset=all-time&by=time");
  const songs = await api<Song[]>(page, "/api/top-songs?preset=all-time&by=time&limit=100");
  await expect.poll(() => rows("Songs")).toEqual(songs.map((s) => [String(s.rank), s.track_name, count(s.plays)]));

  // Each page, at a desktop's width and a phone's, kept as artifacts; no page is wider than a phone.
  for (const width of [1400, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 1000 });
    for (const { name, path, heading } of pages) {
      await page.goto(path);
      if (heading) {
        await expect(page.getByRole(heading === "Totals" ? "region" : "heading", { name: heading, exact: true })).toBeVisible();
      }
      await expect(nav.getByRole("link", { name })).toHaveAttribute("aria-current", "page");
      await page.screenshot({ path: `artifacts/page-${name.toLowerCase()}-${width}.png`, fullPage: true });
      if (name === "Overview") {
        // The range, the clock, listening over time, the calendar and the skip rate are drawn once the page has them.
        await expect(page.getByRole("img", { name: /Listening hours by weekday and hour of the day/ })).toBeVisible();
        await expect(page.getByRole("img", { name: "Share of plays skipped over time" })).toBeVisible();
        expect(await expectReadableCharts(page, `${name} at ${width} px`)).toBeGreaterThanOrEqual(5);
      } else {
        await expectReadableCharts(page, `${name} at ${width} px`);
      }
      if (width === 390) {
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(wide, `${name} at 390 px`).toBeLessThanOrEqual(390);
      }
    }
    // An artist's page, with its chart of months.
    await page.goto(`/artists/${encodeURIComponent(artists[0].artist_name)}?preset=all-time`);
    await expect(page.getByRole("img", { name: "Listening hours per month" })).toBeVisible();
    expect(await expectReadableCharts(page, `an artist at ${width} px`)).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: `artifacts/page-artist-${width}.png`, fullPage: true });
  }
});
