import { expect, test, type Page } from "@playwright/test";

// Runs after dashboard.spec.ts has streamed the sample; puts back everything
// it leaves out, for whatever runs next.

type Summary = { events: number; ms_played: number; songs: number; artists: number };
type Song = { track_uri: string; track_name: string; artist_name: string; album_name: string; plays: number };

async function api<T>(page: Page, path: string): Promise<T> {
  const response = await page.request.get(path);
  expect(response.status(), path).toBe(200);
  return (await response.json()) as T;
}

const count = (n: number) => n.toLocaleString("en-US");

async function summary(page: Page): Promise<Summary> {
  const { events, ms_played, songs, artists } = await api<Summary>(page, "/api/summary");
  return { events, ms_played, songs, artists };
}

/** The listens of a song, as `/api/songs/…` counts them by month (all time). */
async function songPlays(page: Page, uri: string): Promise<number> {
  const response = await page.request.get(`/api/songs/${encodeURIComponent(uri)}?preset=all-time`);
  if (response.status() === 404) return 0;
  expect(response.status()).toBe(200);
  return ((await response.json()) as { song: { plays: number } }).song.plays;
}

test("a person leaves a song out of every figure, removes a looping song's plays in a window, and puts both back exactly", async ({ page }) => {
  await expect
    .poll(async () => (await summary(page)).events, { timeout: 60_000 })
    .toBeGreaterThan(0);
  const before = await summary(page);
  const [top, second] = await api<Song[]>(page, "/api/top-songs?limit=2");

  // The top song, left out from its page.
  await page.goto(`/songs/${encodeURIComponent(top.track_uri)}?preset=all-time`);
  await expect(page.getByRole("heading", { name: top.track_name, exact: true })).toBeVisible();
  const leave = page.getByRole("button", { name: "Leave this song out of my figures" });
  await expect(leave).toBeEnabled();
  await leave.click();
  await expect(page.getByText("Left out of your figures.")).toBeVisible();
  await expect(page.getByText("No listens of this song.")).toBeVisible();
  await expect.poll(async () => (await summary(page)).events).toBe(before.events - top.plays);
  const topSongs = await api<Song[]>(page, "/api/top-songs?limit=100");
  expect(topSongs.map((song) => song.track_uri)).not.toContain(top.track_uri);
  expect(topSongs[0].track_uri).toBe(second.track_uri);

  // The second song's plays in a window of its own time, typed on the person's clocks (UTC).
  type Month = { start: string; plays: number };
  const detail = await api<{ over_time: Month[] }>(
    page,
    `/api/songs/${encodeURIComponent(second.track_uri)}?preset=all-time`,
  );
  const played = detail.over_time.filter((month) => month.plays > 0);
  const busiest = played.reduce((best, month) => (month.plays > best.plays ? month : best));
  const from = `${busiest.start}T00:00`;
  const next = new Date(`${busiest.start}T00:00:00Z`);
  next.setUTCMonth(next.getUTCMonth() + 1);
  const to = `${next.toISOString().slice(0, 10)}T00:00`;
  await page.goto(`/songs/${encodeURIComponent(second.track_uri)}?preset=all-time`);
  await expect(page.getByRole("button", { name: "Remove these plays" })).toBeEnabled();
  await page.getByLabel("Plays from").fill(from);
  await page.getByLabel("until").fill(to);
  await page.getByRole("button", { name: "Remove these plays" }).click();
  await expect(page.getByText("Left out of your figures.")).toBeVisible();
  await expect
    .poll(() => songPlays(page, second.track_uri))
    .toBe(second.plays - busiest.plays);
  await expect.poll(async () => (await summary(page)).events).toBe(before.events - top.plays - busiest.plays);

  // Settings lists both, with what each sets aside; a share link never shows them.
  await page.goto("/settings");
  const list = page.getByRole("table", { name: "Left out of your figures" });
  await expect(list.locator("tbody tr")).toHaveCount(2);
  await expect(list.locator("tbody tr", { hasText: top.track_name })).toContainText(count(top.plays));
  const windowRow = list.locator("tbody tr", { hasText: "Plays" });
  await expect(windowRow).toContainText(second.track_name);
  await expect(windowRow).toContainText(`${busiest.start} 00:00`);
  await expect(windowRow).toContainText(count(busiest.plays));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: "artifacts/settings-clean-up-390.png", fullPage: true });
  await page.setViewportSize({ width: 1400, height: 1000 });

  // A window that ends before it begins is refused with why, and changes nothing.
  await page.goto(`/songs/${encodeURIComponent(second.track_uri)}?preset=all-time`);
  await expect(page.getByRole("button", { name: "Remove these plays" })).toBeEnabled();
  await page.getByLabel("Plays from").fill(to);
  await page.getByLabel("until").fill(from);
  await page.getByRole("button", { name: "Remove these plays" }).click();
  await expect(page.getByRole("alert")).toContainText("ends before it begins");

  // Both put back from Settings: every figure is as it was.
  await page.goto("/settings");
  for (let left = 2; left > 0; left--) {
    const putBack = list.getByRole("button", { name: "Put back" }).first();
    await expect(putBack).toBeEnabled();
    await putBack.click();
    await expect(list.locator("tbody tr")).toHaveCount(left - 1);
  }
  await expect(page.getByText("Nothing is left out: every play counts.")).toBeVisible();
  await expect.poll(() => summary(page)).toEqual(before);
  expect(await api<Song[]>(page, "/api/top-songs?limit=2")).toEqual([top, second]);
});
