import { expect, test, type Page } from "@playwright/test";

// Runs after dashboard.spec.ts has streamed the sample. A German browser:
// the server picks its conventions from Accept-Language, the page carries
// them, and what the hydrated page formats itself follows them too. The
// expected texts come from the browser's own Intl, not from the app.
test.use({ locale: "de-DE" });

const german = (n: number) => n.toLocaleString("de-DE");

async function api<T>(page: Page, path: string): Promise<T> {
  const response = await page.request.get(path);
  expect(response.status(), path).toBe(200);
  return (await response.json()) as T;
}

test("numbers and days read in the browser's language, on the server and in the browser", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await page.goto("/?from=2020-01-01&to=2021-01-01");
  await expect(page.locator("html")).toHaveAttribute("lang", "de-DE");
  await expect(page.getByText("01.01.2020 to 31.12.2020 (days in UTC)")).toBeVisible();
  const days = await api<{ plays: number; ms_played: number }[]>(page, "/api/over-time?from=2020-01-01&to=2021-01-01&bucket=day");
  const plays = days.reduce((sum, day) => sum + day.plays, 0);
  const ms = days.reduce((sum, day) => sum + day.ms_played, 0);
  const totals = page.getByRole("region", { name: "Totals" });
  await expect(totals.locator(".stat").nth(0)).toHaveText(`${german(plays)}Listens`);
  const hours = (ms / 3_600_000).toLocaleString("de-DE", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  await expect(totals.locator(".stat").nth(1)).toHaveText(`${hours}Listening hours`);

  // All time has thousands of listens: the group separator shows.
  const { events } = await api<{ events: number }>(page, "/api/summary");
  expect(events).toBeGreaterThanOrEqual(1000);
  await page.getByRole("navigation", { name: "Time range" }).getByRole("link", { name: "All time" }).click();
  await expect(totals.locator(".stat").nth(0)).toHaveText(`${german(events)}Listens`);

  // Pages drawn by the hydrated app itself: the Artists page, then the
  // overview's live line, both reached without a reload.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Artists" }).click();
  const artists = await api<{ artist_name: string; plays: number }[]>(page, "/api/top-artists?preset=all-time&limit=100");
  await expect(page).toHaveURL(/\/artists$/);
  const table = page.getByRole("table", { name: "Artists", exact: true });
  const shown = () => table.locator("tbody tr").evaluateAll((rows) => rows.map((row) => row.querySelectorAll("td")[2]?.textContent ?? ""));
  await expect.poll(shown).toEqual(artists.map((artist) => german(artist.plays)));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
  await expect(page.locator(".freshness")).toHaveText(/^Figures as of \d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d UTC, refreshed live\. Latest listen: \d\d\.\d\d\.\d{4} \d\d:\d\d UTC\.$/);
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  expect(errors).toEqual([]);
});
