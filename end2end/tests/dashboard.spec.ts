import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Set by scripts/test.sh: the producer binary, the sample and the server's topic.
const producer = required("PRODUCER_BIN");
const sample = required("SAMPLE_FILE");
const topic = required("KAFKA_TOPIC");

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (scripts/test.sh sets it)`);
  return value;
}

type Song = { rank: number; track_name: string; artist_name: string; plays: number };
type Artist = { rank: number; artist_name: string; plays: number };

const person = required("E2E_NAME");

/** Streams a file as the signed-in test person (the producer finds them in MONGODB_DB). */
function produce(file: string): string {
  return execFileSync(producer, ["--file", file, "--topic", topic, "--person", person], { encoding: "utf8" });
}

async function api<T>(page: Page, path: string): Promise<T> {
  const response = await page.request.get(path);
  expect(response.status()).toBe(200);
  return (await response.json()) as T;
}

async function waitForEvents(page: Page, events: number) {
  await expect
    .poll(async () => (await api<{ events: number }>(page, "/api/summary")).events, {
      timeout: 60_000,
    })
    .toBe(events);
}

/** The rank, title and plays of each row of a ranking table. */
async function tableRows(page: Page, name: string): Promise<string[][]> {
  const rows = page.getByRole("table", { name, exact: true }).locator("tbody tr");
  return rows.evaluateAll((trs) =>
    trs.map((tr) => {
      const cells = Array.from(tr.querySelectorAll("td"));
      const title = cells[1]?.querySelector(".title")?.textContent ?? "";
      return [cells[0]?.textContent ?? "", title, cells[2]?.textContent ?? ""];
    }),
  );
}

const count = (n: number) => n.toLocaleString("en-US");

// Streams the sample once into the server's empty topic; later runs of the
// hook (Playwright repeats it after a failure) find the data already there.
test.beforeAll(async ({ request }) => {
  const events = async () => (await (await request.get("/api/summary")).json()).events as number;
  if ((await events()) > 0) return;
  const summary = produce(sample);
  const match = /^sent\s+(\d+)/m.exec(summary);
  if (!match) throw new Error(`no summary from the producer:\n${summary}`);
  await expect.poll(events, { timeout: 60_000 }).toBe(Number(match[1]));
});

test("the dashboard shows the same top songs and artists as the API", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });

  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Listening analytics" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Top songs", exact: true })).toBeVisible();

  const songs = await api<Song[]>(page, "/api/top-songs?limit=10");
  const artists = await api<Artist[]>(page, "/api/top-artists?limit=10");
  expect(songs).toHaveLength(10);
  await expect
    .poll(() => tableRows(page, "Top songs"))
    .toEqual(songs.map((s) => [String(s.rank), s.track_name, count(s.plays)]));
  await expect
    .poll(() => tableRows(page, "Top artists"))
    .toEqual(artists.map((a) => [String(a.rank), a.artist_name, count(a.plays)]));

  const summary = await api<{ events: number }>(page, "/api/summary");
  const totals = page.getByRole("region", { name: "Totals" });
  await expect(totals).toContainText(count(summary.events));
  await expect(page.getByRole("img", { name: "Top songs by plays", exact: true }).locator("svg text").first()).toContainText(
    `1. ${songs[0].track_name}`,
  );

  mkdirSync("artifacts", { recursive: true });
  await page.screenshot({ path: "artifacts/dashboard.png", fullPage: true });
  expect(errors).toEqual([]);
});

// scripts/test.sh serves this suite from a copy of the server binary and the
// site folder alone, run with only the documented variables (the README's
// deployment recipe); this test proves such a copy hydrates.
test("the deployed release build hydrates: its wasm loads, nothing errs, a live figure changes", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("requestfailed", (request) => errors.push(`${request.url()}: ${request.failure()?.errorText}`));
  const wasm = page.waitForResponse((response) => response.url().endsWith(".wasm"));

  await page.goto("/");
  const loaded = await wasm;
  expect(loaded.status()).toBe(200);
  expect(loaded.headers()["content-type"]).toBe("application/wasm");
  // Sent compressed, under a name that changes with its content, kept for a year.
  expect(new URL(loaded.url()).pathname).toMatch(/^\/pkg\/spotify-analytics\.[A-Za-z0-9_-]+\.wasm$/);
  expect(loaded.headers()["content-encoding"]).toBe("br");
  expect(loaded.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  const totals = page.getByRole("region", { name: "Totals" });
  const { events } = await api<{ events: number }>(page, "/api/summary");
  await expect(totals).toContainText(count(events));
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));

  const dir = mkdtempSync(join(tmpdir(), "e2e-"));
  const file = join(dir, "hydrate.csv");
  writeFileSync(
    file,
    "spotify_track_uri,ts,platform,ms_played,track_name,artist_name,album_name,reason_start,reason_end,shuffle,skipped\n" +
      "e2eHydrate001,2026-03-01 09:00:00,web player,1000,Hydrated,Deployed Artist,E2E,clickrow,trackdone,FALSE,FALSE\n",
  );
  produce(file);
  // Only the hydrated page's own code can draw a pushed figure without a reload.
  await expect(totals).toContainText(count(events + 1), { timeout: 30_000 });
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  expect(errors).toEqual([]);
});

test("new listens appear on the open page without a reload", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Top songs", exact: true })).toBeVisible();
  // A reload would lose this marker.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));

  const before = await api<{ events: number }>(page, "/api/summary");
  const [topSong] = await api<Song[]>(page, "/api/top-songs?limit=1");
  const [topArtist] = await api<Artist[]>(page, "/api/top-artists?limit=1");
  // Enough plays to top both rankings.
  const plays = Math.max(topSong.plays, topArtist.plays) + 3;
  const rows = ["spotify_track_uri,ts,platform,ms_played,track_name,artist_name,album_name,reason_start,reason_end,shuffle,skipped"];
  for (let i = 0; i < plays; i++) {
    const second = String(i % 60).padStart(2, "0");
    const minute = String(Math.floor(i / 60) % 60).padStart(2, "0");
    const hour = String(Math.floor(i / 3600) % 24).padStart(2, "0");
    rows.push(`e2eLive0001,2026-01-01 ${hour}:${minute}:${second},web player,200000,Live From The Test,Playwright Live,E2E,clickrow,trackdone,FALSE,FALSE`);
  }
  const dir = mkdtempSync(join(tmpdir(), "e2e-"));
  const file = join(dir, "live.csv");
  writeFileSync(file, rows.join("\n") + "\n");
  produce(file);

  const songsTable = page.getByRole("table", { name: "Top songs", exact: true });
  await expect(songsTable.locator("tbody tr").first()).toContainText("Live From The Test", { timeout: 30_000 });
  await expect(page.getByRole("region", { name: "Totals" })).toContainText(count(before.events + plays));
  await expect(page.getByRole("table", { name: "Top artists", exact: true }).locator("tbody tr").first()).toContainText(
    "Playwright Live",
  );
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  mkdirSync("artifacts", { recursive: true });
  await page.screenshot({ path: "artifacts/dashboard-live.png", fullPage: true });
});

test("picking a range changes the charts and tables to match the API", async ({ page }) => {
  await page.goto("/");
  const range = page.getByRole("navigation", { name: "Time range" });
  await range.getByRole("link", { name: "Last 30 days" }).click();
  await expect(page).toHaveURL(/preset=last-30-days/);
  const songs = await api<Song[]>(page, "/api/top-songs?preset=last-30-days&limit=10");
  expect(songs.length).toBeGreaterThan(0);
  await expect
    .poll(() => tableRows(page, "Top songs"))
    .toEqual(songs.map((s) => [String(s.rank), s.track_name, count(s.plays)]));
  // One range control drives the totals too: they are the range's, not all time's.
  const month = await api<{ plays: number }[]>(page, "/api/over-time?preset=last-30-days&bucket=day");
  const monthPlays = month.reduce((sum, day) => sum + day.plays, 0);
  const { events } = await api<{ events: number }>(page, "/api/summary");
  expect(monthPlays).toBeGreaterThan(0);
  expect(monthPlays).toBeLessThan(events);
  const totals = page.getByRole("region", { name: "Totals" });
  await expect(totals.locator(".stat").first()).toHaveText(`${count(monthPlays)}Listens`);
  await expect(page.getByRole("region", { name: "Totals" })).toHaveCount(1);
  await expect(page.getByRole("table", { name: "Top songs", exact: true })).toHaveCount(1);

  // A custom range, typed into the form, and ranked by listening time.
  await range.getByLabel("From").fill("2020-01-01");
  await range.getByLabel("To (excluded)").fill("2021-01-01");
  await range.getByRole("button", { name: "Show range" }).click();
  await expect(page).toHaveURL(/from=2020-01-01&to=2021-01-01/);
  await range.getByRole("link", { name: "Listening time" }).click();
  await expect(page).toHaveURL(/by=time/);
  const byTime = await api<Artist[]>(page, "/api/top-artists?from=2020-01-01&to=2021-01-01&by=time&limit=10");
  await expect
    .poll(() => tableRows(page, "Top artists"))
    .toEqual(byTime.map((a) => [String(a.rank), a.artist_name, count(a.plays)]));
  const albums = await api<{ rank: number; album_name: string; plays: number }[]>(
    page,
    "/api/top-albums?from=2020-01-01&to=2021-01-01&by=time&limit=10",
  );
  await expect
    .poll(() => tableRows(page, "Top albums"))
    .toEqual(albums.map((a) => [String(a.rank), a.album_name, count(a.plays)]));
  await expect(page.getByText("2020-01-01 to 2020-12-31 (days in UTC)")).toBeVisible();

  // The listening clock: a cell per weekday and hour, and its table.
  const clock = page.getByRole("img", { name: "Listening hours by weekday and hour of the day, UTC" });
  await expect(clock.locator("svg rect")).toHaveCount(7 * 24);
  await expect(clock.locator("svg text").filter({ hasText: "Mon" })).toHaveCount(1);
  const over = page.getByRole("img", { name: "Listening hours over time" });
  await expect(over.locator("svg text").filter({ hasText: "hours" }).first()).toBeVisible();

  // The chart downloads are server-drawn files.
  const svg = await page.request.get("/charts/listening-clock.svg?from=2020-01-01&to=2021-01-01&by=time");
  expect(svg.status()).toBe(200);
  expect(svg.headers()["content-type"]).toContain("image/svg+xml");
  const png = await page.request.get("/charts/top-songs.png?preset=all-time&by=plays");
  expect(png.headers()["content-type"]).toContain("image/png");
  expect((await png.body()).subarray(0, 4).toString("latin1")).toBe("\x89PNG");

  mkdirSync("artifacts", { recursive: true });
  await page.screenshot({ path: "artifacts/dashboard-range.png", fullPage: true });
  // The picture of the README (docs/dashboard.png): totals, rankings and the range view's top.
  await page.screenshot({ path: "artifacts/readme-dashboard.png", fullPage: true, clip: { x: 0, y: 0, width: 1400, height: 2250 } });
});

type Calendar = {
  year: number;
  first_year: number;
  days: { start: string; plays: number }[];
  longest: { days: number } | null;
};

test("the calendar shows a year's listening days and streaks, and moves between years", async ({ page }) => {
  await page.goto("/");
  const latest = await api<Calendar>(page, "/api/calendar");
  const section = page.locator("#calendar");
  const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const heatmap = (year: number) =>
    section.getByRole("img", { name: `Listening hours per day of ${year}, darker for more` });
  await expect(heatmap(latest.year).locator("svg rect")).toHaveCount(leap(latest.year) ? 366 : 365);
  await expect(section.getByText(`${latest.year}: ${count(latest.days.length)} listening days`)).toBeVisible();
  await expect(section.getByText(`Longest streak ever: ${latest.longest?.days} days`)).toBeVisible();

  // The sample's busiest year before the latest, reached from the year after
  // it by its link, followed with the keyboard.
  const years: Calendar[] = [];
  for (let year = latest.first_year; year < latest.year; year++) {
    years.push(await api<Calendar>(page, `/api/calendar?year=${year}`));
  }
  const busiest = years.reduce((best, year) => (year.days.length > best.days.length ? year : best));
  expect(busiest.days.length).toBeGreaterThan(31);
  await page.goto(`/?year=${busiest.year + 1}`);
  await section.getByRole("link", { name: `← ${busiest.year}` }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`year=${busiest.year}`));
  await expect(heatmap(busiest.year).locator("svg rect")).toHaveCount(leap(busiest.year) ? 366 : 365);
  await expect(section.getByText(`${busiest.year}: ${count(busiest.days.length)} listening days`)).toBeVisible();
  await section.getByText(`${busiest.year} by month as a table`).click();
  const table = section.getByRole("table", { name: `Listening days of ${busiest.year} by month` });
  await expect(table.locator("tbody tr")).toHaveCount(12);
  const january = busiest.days.filter((day) => day.start.startsWith(`${busiest.year}-01-`)).length;
  await expect(table.locator("tbody tr").first().locator("td").first()).toHaveText(`${january} of 31`);

  // Picking a range leaves the calendar on its year.
  await page.getByRole("navigation", { name: "Time range" }).getByRole("link", { name: "Last 30 days" }).click();
  await expect(page).toHaveURL(new RegExp(`preset=last-30-days.*year=${busiest.year}`));
  await expect(section.getByText(`${busiest.year}: ${count(busiest.days.length)} listening days`)).toBeVisible();

  // What the year's months discovered, one row each.
  const discoveries = await api<{ month: string; new_artists: number }[]>(page, "/api/discoveries");
  const ofYear = discoveries.filter((month) => month.month.startsWith(`${busiest.year}-`));
  const found = section.getByRole("table", { name: `Discoveries in ${busiest.year}` });
  await expect(found.locator("tbody tr")).toHaveCount(ofYear.length);
  await expect(found.locator("tbody tr").first().locator("td").first()).toHaveText(count(ofYear[0].new_artists));
  mkdirSync("artifacts", { recursive: true });
  await section.screenshot({ path: "artifacts/dashboard-calendar.png" });
});

test("the skips and sessions sections follow the range: share skipped, early skips, endings by platform and sessions as the API counts them", async ({ page }) => {
  type Skips = {
    over_time: { plays: number; skips: number }[];
    early: { rank: number; track_name: string; plays: number; early_skips: number }[];
    platforms: { platform: string; plays: number }[];
  };
  for (const preset of ["all-time", "latest-year"]) {
    await page.goto(`/?preset=${preset}`);
    const story = await api<Skips>(page, `/api/skips?preset=${preset}`);
    const section = page.locator("#skips");
    const plays = story.over_time.reduce((sum, step) => sum + step.plays, 0);
    const skips = story.over_time.reduce((sum, step) => sum + step.skips, 0);
    await expect(section.locator(".range-caption")).toContainText(`${count(skips)} of ${count(plays)} plays skipped`);
    await expect(section.getByRole("img", { name: "Share of plays skipped over time" }).locator("svg")).toBeVisible();
    const early = section.getByRole("table", { name: "Skipped early" }).locator("tbody tr");
    await expect
      .poll(() => early.evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent ?? ""))))
      .toEqual(story.early.map((song) => [String(song.rank), expect.stringContaining(song.track_name), count(song.early_skips), count(song.plays)]));
    const platforms = section.getByRole("table", { name: "Endings by platform" }).locator("tbody tr th");
    await expect(platforms).toHaveText(story.platforms.map((platform) => platform.platform));
  }
  mkdirSync("artifacts", { recursive: true });
  await page.locator("#skips").screenshot({ path: "artifacts/dashboard-skips.png" });

  // Listening sessions: the pause that ends one is picked by a link, and the
  // count and longest sessions follow it.
  type Sessions = { sessions: { count: number; longest: { listens: number }[] } };
  const { year } = await api<Calendar>(page, "/api/calendar");
  await page.goto(`/?preset=all-time&year=${year}`);
  const sessions = page.locator("#sessions");
  const pauses = sessions.getByRole("navigation", { name: "Pause that ends a session" });
  for (const [label, gap] of [["2 h", 120], ["30 min", 30]] as const) {
    const story = await api<Sessions>(page, `/api/sessions?preset=all-time&gap=${gap}`);
    await pauses.getByRole("link", { name: label }).click();
    // 30 minutes is the default, left out of the address.
    await expect(page).toHaveURL(gap === 30 ? /^[^#]*[?&]year=\d+(#sessions)?$/ : new RegExp(`gap=${gap}`));
    await expect(page).toHaveURL(new RegExp(`preset=all-time.*year=${year}`));
    await expect(sessions.locator(".range-caption")).toContainText(`${count(story.sessions.count)} sessions in`);
    await expect(sessions.getByRole("table", { name: "Longest sessions" }).locator("tbody tr td:nth-child(3)")).toHaveText(
      story.sessions.longest.map((session) => count(session.listens)),
    );
  }
  await sessions.screenshot({ path: "artifacts/dashboard-sessions.png" });

  // Each section's links change their own part of the address and keep the
  // others': the pause survives a range picked and a year moved.
  await pauses.getByRole("link", { name: "2 h" }).click();
  await expect(page).toHaveURL(/gap=120/);
  await page.getByRole("navigation", { name: "Time range" }).getByRole("link", { name: "Latest year" }).click();
  await expect(page).toHaveURL(new RegExp(`preset=latest-year.*year=${year}.*gap=120`));
  await page.locator("#calendar").getByRole("link", { name: `← ${year - 1}` }).click();
  await expect(page).toHaveURL(new RegExp(`preset=latest-year.*year=${year - 1}.*gap=120`));
  await expect(pauses.getByRole("link", { name: "2 h" })).toHaveAttribute("aria-current", "true");
});

test("artist and song pages show their totals, months and top songs", async ({ page }) => {
  await page.goto("/?preset=all-time&by=plays");
  const firstArtist = page.getByRole("table", { name: "Top artists" }).locator("tbody tr a").first();
  const name = (await firstArtist.textContent()) ?? "";
  await firstArtist.click();
  await expect(page.getByRole("heading", { name, exact: true })).toBeVisible();
  type Ranks = { months: { month: string; rank: number; plays: number }[]; weeks_at_number_one: number };
  const artist = await api<{ plays: number; top_songs: Song[]; rank_history: Ranks }>(
    page,
    `/api/artists/${encodeURIComponent(name)}?preset=all-time`,
  );
  await expect(page.getByRole("region", { name: "Totals" })).toContainText(count(artist.plays));
  // Its rank history: every month it was played, newest first, as the API ranks it.
  const monthName = (day: string) =>
    new Date(`${day}T00:00:00Z`).toLocaleString("en-US", { month: "short", year: "numeric", timeZone: "UTC" });
  const rankRows = () =>
    page
      .getByRole("table", { name: "Rank by month" })
      .locator("tbody tr")
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((cell) => cell.textContent ?? "")));
  await expect
    .poll(rankRows)
    .toEqual([...artist.rank_history.months].reverse().map((m) => [monthName(m.month), `#${m.rank}`, count(m.plays)]));
  await expect(page.locator('dl[aria-label="Rank history"]')).toContainText(
    `Weeks at number one${count(artist.rank_history.weeks_at_number_one)}`,
  );
  await expect
    .poll(() => tableRows(page, "Top songs"))
    .toEqual(artist.top_songs.map((s) => [String(s.rank), s.track_name, count(s.plays)]));
  await expect(page.getByRole("img", { name: "Listening hours per month" })).toBeVisible();
  await page.screenshot({ path: "artifacts/artist.png", fullPage: true });

  await page.getByRole("table", { name: "Top songs", exact: true }).locator("tbody tr a").first().click();
  await expect(page.getByRole("heading", { name: artist.top_songs[0].track_name, exact: true })).toBeVisible();
  await expect(page.getByRole("region", { name: "Totals" })).toContainText(count(artist.top_songs[0].plays));
  await page.screenshot({ path: "artifacts/song.png", fullPage: true });
});

test("a listen produced while the page is open shows within about a second, pushed by the server", async ({ page }) => {
  await page.goto("/");
  const totals = page.getByRole("region", { name: "Totals" });
  await expect(totals).toBeVisible();
  const header = "spotify_track_uri,ts,platform,ms_played,track_name,artist_name,album_name,reason_start,reason_end,shuffle,skipped";
  const dir = mkdtempSync(join(tmpdir(), "e2e-"));
  const fromStart: number[] = [];
  const fromAck: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { events } = await api<{ events: number }>(page, "/api/summary");
    await expect(totals).toContainText(count(events));
    const expected = count(events + 1);
    // Notes in the page the moment the new total is drawn.
    await page.evaluate((text) => {
      const w = window as unknown as { seenAt?: number };
      w.seenAt = undefined;
      const observer = new MutationObserver(() => {
        // Queried each time: a pushed update may draw the region anew.
        const region = document.querySelector('[aria-label="Totals"]');
        if (w.seenAt === undefined && (region?.textContent ?? "").includes(text)) {
          w.seenAt = Date.now();
          observer.disconnect();
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    }, expected);
    const file = join(dir, `one-${i}.csv`);
    writeFileSync(file, `${header}\ne2eLatency000${i},2026-02-0${i + 1} 10:00:00,web player,1000,Latency ${i},Latency Artist,E2E,clickrow,trackdone,FALSE,FALSE\n`);
    const started = Date.now();
    produce(file);
    const acknowledged = Date.now();
    await expect(totals).toContainText(expected, { timeout: 30_000 });
    const seenAt = await page.evaluate(() => (window as unknown as { seenAt?: number }).seenAt);
    expect(seenAt).toBeDefined();
    fromStart.push((seenAt as number) - started);
    fromAck.push(Math.max(0, (seenAt as number) - acknowledged));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const report =
    `produce → visible, 5 single listens (ms)\n` +
    `from producer start (process start-up, broker connection, send): ${fromStart.join(" ")} (median ${median(fromStart)})\n` +
    `from broker acknowledgement (consumer batch, MongoDB, push): ${fromAck.join(" ")} (median ${median(fromAck)})\n`;
  console.log(report);
  mkdirSync("artifacts", { recursive: true });
  writeFileSync("artifacts/live-latency.txt", report);
});

test("the page says so while live updates are cut off, and reconnects by itself", async ({ page }) => {
  // The push channel fails from the start, as a dropped network would make it.
  await page.route("**/api/live", (route) => route.abort("connectionrefused"));
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Top songs", exact: true })).toBeVisible();
  const notice = page.getByRole("status").filter({ hasText: "Live updates are disconnected; reconnecting" });
  await expect(notice).toBeVisible();
  // The figures rendered by the server stay on screen meanwhile.
  await expect(page.getByRole("table", { name: "Top songs", exact: true }).locator("tbody tr")).toHaveCount(10);
  mkdirSync("artifacts", { recursive: true });
  await page.screenshot({ path: "artifacts/dashboard-disconnected.png", fullPage: true });

  await page.unroute("**/api/live");
  await expect(notice).toHaveCount(0);
  const { events } = await api<{ events: number }>(page, "/api/summary");
  await expect(page.getByRole("region", { name: "Totals" })).toContainText(count(events));
});

test("a theme picked in the top bar is remembered and drawn from the first paint", async ({ page }) => {
  await page.goto("/");
  const picker = page.getByRole("combobox", { name: "Theme" });
  await expect(picker).toBeEnabled();
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await picker.selectOption("dark");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect.poll(background).toBe("rgb(15, 17, 19)");
  // The server draws the next page dark already: the attribute is in its HTML.
  const html = await (await page.request.get("/")).text();
  expect(html).toMatch(/<html[^>]*data-theme="dark"/);
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(picker).toHaveValue("dark");
  await page.screenshot({ path: "artifacts/dashboard-dark.png" });
  await picker.selectOption("light");
  await expect.poll(background).toBe("rgb(245, 246, 247)");
  await picker.selectOption("system");
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /./);
  const plain = await (await page.request.get("/")).text();
  expect(plain).not.toMatch(/<html[^>]*data-theme=/);
});
