import { expect, test, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";

// The sample is streamed by dashboard.spec.ts's hook; this file runs after it
// (files run in name order, one worker) and waits for it anyway.

type Song = { rank: number; track_name: string; plays: number };
type Artist = { rank: number; artist_name: string; plays: number };
type Review = {
  period: string;
  totals: { plays: number; ms_played: number };
  top_songs: { row: Song; rank_before: number | null }[];
  top_artists: { row: Artist; rank_before: number | null }[];
  new_artists: number;
  new_songs: number;
};

async function api<T>(page: Page, path: string): Promise<T> {
  const response = await page.request.get(path);
  expect(response.status()).toBe(200);
  return (await response.json()) as T;
}

const count = (n: number) => n.toLocaleString("en-US");
const mark = (rank: number, before: number | null) =>
  before === null ? "new" : before > rank ? `▲${before - rank}` : before < rank ? `▼${rank - before}` : "=";

/** Each row of a review ranking: rank, move, name and plays. */
async function reviewRows(page: Page, table: string): Promise<string[][]> {
  const rows = page.getByRole("table", { name: table, exact: true }).locator("tbody tr");
  return rows.evaluateAll((trs) =>
    trs.map((tr) => {
      const cells = Array.from(tr.querySelectorAll("td"));
      const move = cells[1]?.querySelector("[aria-hidden]")?.textContent ?? "";
      const name = cells[2]?.querySelector(".title")?.textContent ?? "";
      return [cells[0]?.textContent ?? "", move, name, cells[3]?.textContent ?? ""];
    }),
  );
}

/** The smallest text of the card as shown: its font sizes times the scale it is drawn at. */
async function smallestCardText(page: Page): Promise<number> {
  const image = page.locator("#review-card img");
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  const { source, shown } = await image.evaluate((img: HTMLImageElement) => ({
    source: img.currentSrc,
    shown: img.getBoundingClientRect().width,
  }));
  const svg = await (await page.request.get(source)).text();
  const width = Number(/<svg[^>]*\swidth="(\d+)"/.exec(svg)?.[1]);
  const sizes = [...svg.matchAll(/font-size="([\d.]+)"/g)].map((match) => Number(match[1]));
  expect(sizes.length).toBeGreaterThan(5);
  return (Math.min(...sizes) * shown) / width;
}

test("a year's review and a month's: rankings with their moves, discoveries, and a card to share", async ({ page }) => {
  await expect.poll(async () => (await api<{ events: number }>(page, "/api/summary")).events, { timeout: 60_000 }).toBeGreaterThan(0);
  await page.goto("/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Review" }).click();
  const latest = await api<Review>(page, "/api/review");
  await expect(page).toHaveURL(/\/review$/);
  await expect(page.getByRole("heading", { name: `Your ${latest.period}`, exact: true })).toBeVisible();

  // The sample's busiest year, reached from the year after it by its link,
  // followed with the keyboard (the latest year holds only what other tests sent).
  const { first_year, last_year } = await api<{ first_year: number; last_year: number }>(page, "/api/calendar");
  let year = "";
  let most = 0;
  for (let y = first_year; y <= last_year; y++) {
    const { totals } = await api<Review>(page, `/api/review?period=${y}`);
    if (totals.plays > most) [year, most] = [String(y), totals.plays];
  }
  await page.goto(`/review/${Number(year) + 1}`);
  await page.getByRole("navigation", { name: "Other periods" }).getByRole("link", { name: `← ${year}` }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/review/${year}$`));
  const review = await api<Review>(page, `/api/review?period=${year}`);
  await expect(page.getByRole("heading", { name: `Your ${year}`, exact: true })).toBeVisible();
  await expect(page.getByRole("region", { name: "Totals" })).toContainText(count(review.totals.plays));
  expect(review.top_songs.length).toBe(10);
  expect(await reviewRows(page, "Top songs")).toEqual(
    review.top_songs.map(({ row, rank_before }) => [String(row.rank), mark(row.rank, rank_before), row.track_name, count(row.plays)]),
  );
  expect(await reviewRows(page, "Top artists")).toEqual(
    review.top_artists.map(({ row, rank_before }) => [String(row.rank), mark(row.rank, rank_before), row.artist_name, count(row.plays)]),
  );
  await expect(page.locator("#review-discoveries")).toContainText(
    `${count(review.new_artists)} new artists and ${count(review.new_songs)} new songs`,
  );
  await expect(page.getByRole("term").filter({ hasText: "Longest streak" })).toBeVisible();

  // The card: shown, its text readable as shown, and downloadable as PNG at its size.
  expect(await smallestCardText(page)).toBeGreaterThanOrEqual(11);
  const png = await page.request.get(`/cards/${year}/story.png`);
  expect(png.headers()["content-type"]).toBe("image/png");
  const bytes = await png.body();
  expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1080, 1920]);
  mkdirSync("artifacts", { recursive: true });
  await page.screenshot({ path: "artifacts/review-year-1400.png", fullPage: true });
  // The picture of the README (docs/review.png): the year's top.
  await page.screenshot({ path: "artifacts/readme-review.png", fullPage: true, clip: { x: 0, y: 0, width: 1400, height: 1900 } });

  // A month of the year, from the year's list of months.
  const july = `July ${year}`;
  await page.getByRole("list", { name: "Months of the year" }).getByRole("link", { name: july }).click();
  await expect(page).toHaveURL(new RegExp(`/review/${year}-07$`));
  await expect(page.getByRole("heading", { name: `Your ${july}`, exact: true })).toBeVisible();
  const month = await api<Review>(page, `/api/review?period=${year}-07`);
  expect(await reviewRows(page, "Top songs")).toEqual(
    month.top_songs.map(({ row, rank_before }) => [String(row.rank), mark(row.rank, rank_before), row.track_name, count(row.plays)]),
  );

  // On a phone: the story card, its text still readable.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByRole("heading", { name: `Your ${july}`, exact: true })).toBeVisible();
  await expect.poll(() => page.locator("#review-card img").evaluate((img: HTMLImageElement) => img.currentSrc)).toContain("story.svg");
  expect(await smallestCardText(page)).toBeGreaterThanOrEqual(11);
  await page.screenshot({ path: "artifacts/review-month-390.png", fullPage: true });

  // A share link made here opens this review, read-only, for anyone.
  await page.getByRole("button", { name: "Make a share link to this review" }).click();
  const link = (await page.locator(".notice.secret code").textContent()) ?? "";
  expect(link).toContain(`/share/`);
  expect(link).toContain(`?to=/review/${year}-07`);
  const guest = await page.context().browser()!.newContext({ storageState: { cookies: [], origins: [] } });
  const guestPage = await guest.newPage();
  await guestPage.goto(link);
  await expect(guestPage).toHaveURL(new RegExp(`/review/${year}-07$`));
  await expect(guestPage.getByRole("heading", { name: `Your ${july}`, exact: true })).toBeVisible();
  await expect(guestPage.getByText("shared dashboard (read-only)")).toBeVisible();
  await expect(guestPage.getByRole("button", { name: "Make a share link to this review" })).toHaveCount(0);
  await guest.close();
});
