import { expect, test, type Page } from "@playwright/test";

// Runs after dashboard.spec.ts has streamed the sample. The browser's clock is
// in Tokyo (no daylight saving there since 1951: always 9 hours ahead of UTC).
test.use({ timezoneId: "Asia/Tokyo" });

type Cell = { weekday: number; hour: number; plays: number; ms_played: number };

async function clock(page: Page): Promise<Cell[]> {
  const response = await page.request.get("/api/listening-clock?preset=all-time");
  expect(response.status()).toBe(200);
  return (await response.json()) as Cell[];
}

/** Opens the settings page and types `zone` once the page is interactive
 * (typed before, hydration would put the current zone back in the field). */
async function typeZone(page: Page, zone: string) {
  await page.goto("/settings");
  await expect(page.getByRole("button", { name: "Set the time zone" })).toBeEnabled();
  const field = page.getByRole("combobox", { name: "Time zone" });
  await field.fill(zone);
  await expect(field).toHaveValue(zone);
}

/** Sets the zone on the settings page, typed in the field. */
async function setZone(page: Page, zone: string) {
  await typeZone(page, zone);
  await page.getByRole("button", { name: "Set the time zone" }).click();
  await expect(page.getByRole("status")).toHaveText(`Your figures are now in ${zone}.`);
}

test("a person sets their time zone from the browser's and every hour moves to their clocks", async ({ page }) => {
  await expect
    .poll(async () => ((await (await page.request.get("/api/summary")).json()) as { events: number }).events, { timeout: 60_000 })
    .toBeGreaterThan(0);
  const utc = await clock(page);
  expect(utc.reduce((sum, cell) => sum + cell.plays, 0)).toBeGreaterThan(0);

  await page.goto("/settings");
  await expect(page.getByText("Your figures are in UTC.")).toBeVisible();
  // A token made now says when, in UTC.
  await expect(page.getByRole("button", { name: "Create a token" })).toBeEnabled();
  await page.getByRole("textbox", { name: "Label" }).fill("zone check");
  await page.getByRole("button", { name: "Create a token" }).click();
  const tokens = page.getByRole("table", { name: "API tokens" });
  const created = tokens.getByRole("row").filter({ hasText: "zone check" }).getByRole("cell").nth(1);
  await expect(created).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  const createdUtc = Date.parse(`${(await created.innerText()).slice(0, 16).replace(" ", "T")}:00Z`);
  // The browser's zone is offered, and taken with one click.
  await page.getByRole("button", { name: "Use this browser's zone, Asia/Tokyo" }).click();
  await expect(page.getByRole("combobox", { name: "Time zone" })).toHaveValue("Asia/Tokyo");
  await page.getByRole("button", { name: "Set the time zone" }).click();
  await expect(page.getByRole("region", { name: "Time zone" }).getByRole("status")).toHaveText("Your figures are now in Asia/Tokyo.");
  await expect(page.getByText("Your figures are in Asia/Tokyo.")).toBeVisible();
  // The page's own moments follow at once, without a reload.
  const createdTokyo = new Date(createdUtc + 9 * 3_600_000).toISOString().slice(0, 16).replace("T", " ");
  await expect(created).toHaveText(`${createdTokyo} Asia/Tokyo`);
  await tokens.getByRole("button", { name: "Revoke the token zone check" }).click();
  await expect(tokens).toHaveCount(0);

  // Each hour of the UTC clock is 9 hours later in Tokyo, a day later past midnight.
  const tokyo = await clock(page);
  const moved = new Map<string, number>();
  for (const cell of utc) {
    const hour = cell.hour + 9;
    moved.set(`${(cell.weekday + Math.floor(hour / 24)) % 7}/${hour % 24}`, cell.plays);
  }
  for (const cell of tokyo) {
    expect(cell.plays, `${cell.weekday}/${cell.hour}`).toBe(moved.get(`${cell.weekday}/${cell.hour}`));
  }

  // The dashboard says so where it draws hours.
  await page.goto("/?preset=all-time");
  await expect(page.getByRole("img", { name: "Listening hours by weekday and hour of the day, Asia/Tokyo" })).toBeVisible();

  // Moments read on the person's clock too: as the server writes the page,
  // and as the browser writes it itself (the overview reached without a reload).
  const { last_listen } = (await (await page.request.get("/api/summary")).json()) as { last_listen: string };
  const inTokyo = new Date(Date.parse(last_listen) + 9 * 3_600_000).toISOString().slice(0, 16).replace("T", " ");
  const latest = `Latest listen: ${inTokyo} Asia/Tokyo.`;
  const freshness = page.locator(".freshness");
  await expect(freshness).toContainText(latest);
  await expect(freshness).toHaveText(/^Figures as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d Asia\/Tokyo, refreshed live\./);
  await expect(page.locator("html")).toHaveAttribute("data-zone", "Asia/Tokyo");
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Artists" }).click();
  await expect(page).toHaveURL(/\/artists$/);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
  await expect(freshness).toContainText(latest);
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);

  // A name that is not a zone is refused with what one looks like, and nothing changes.
  await typeZone(page, "Mars/Olympus<b>");
  await page.getByRole("button", { name: "Set the time zone" }).click();
  await expect(page.getByRole("alert")).toContainText("Europe/Berlin");
  expect(await clock(page)).toEqual(tokyo);

  // Back to UTC for whatever runs next.
  await setZone(page, "UTC");
  expect(await clock(page)).toEqual(utc);
});
