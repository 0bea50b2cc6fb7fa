import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Set by scripts/test.sh: the generator, the producer, the server's topic and
// a person with nothing counted yet.
const generator = required("GENERATE_BIN");
const producer = required("PRODUCER_BIN");
const topic = required("KAFKA_TOPIC");
const importer = required("E2E_IMPORTER");
const password = required("E2E_PASSWORD");

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (scripts/test.sh sets it)`);
  return value;
}

// Signs in by itself, as the importer.
test.use({ storageState: { cookies: [], origins: [] } });

/** The fields of a CSV line (quotes and commas inside quotes handled). */
function fields(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(field);
      field = "";
    } else field += c;
  }
  out.push(field);
  return out;
}

/** Listens and plays by artist of a classic CSV file, computed here: an exact repeat of a row counts once. */
function countsOf(csv: string): { events: number; artists: Map<string, number> } {
  const seen = new Set<string>();
  const artists = new Map<string, number>();
  for (const line of csv.split("\n").slice(1)) {
    if (line === "" || seen.has(line)) continue;
    seen.add(line);
    const artist = fields(line)[5];
    artists.set(artist, (artists.get(artist) ?? 0) + 1);
  }
  return { events: seen.size, artists };
}

type FileRow = { name: string; read: number; sent: number; duplicates: number; not_music: number; rejected: number };

/** The producer's per-file table: name, then five counts. */
function cliTable(summary: string): FileRow[] {
  return summary
    .split("\n")
    .filter((line) => /\.json\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+$/.test(line))
    .map((line) => {
      const parts = line.trim().split(/\s+/);
      const [read, sent, duplicates, not_music, rejected] = parts.slice(-5).map(Number);
      return { name: parts.slice(0, -5).join(" "), read, sent, duplicates, not_music, rejected };
    });
}

/** The rows of the Import page's table of the import, as numbers. */
async function pageTable(page: Page): Promise<FileRow[]> {
  const rows = page.getByRole("table", { name: "Files of the import" }).locator("tbody tr");
  return rows.evaluateAll((trs) =>
    trs.map((tr) => {
      const count = (name: string) => Number((tr.querySelector(`[data-count=${name}]`)?.textContent ?? "").replace(/,/g, ""));
      return {
        name: tr.getAttribute("data-file") ?? "",
        read: count("read"),
        sent: count("sent"),
        duplicates: count("duplicates"),
        not_music: count("not_music"),
        rejected: count("rejected"),
      };
    }),
  );
}

async function upload(page: Page, file: string) {
  const input = page.locator("input[type=file]");
  await expect(input).toBeEnabled();
  await input.setInputFiles(file);
}

test("a person uploads their export, watches it count, and the figures equal the export's; a repeat is skipped and an image refused", async ({
  page,
}) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });

  // A generated history, and the same listens as Spotify's export in four files.
  const dir = mkdtempSync(join(tmpdir(), "e2e-import-"));
  const csv = join(dir, "spotify_history.csv");
  const zip = join(dir, "my_spotify_data.zip");
  execFileSync(generator, ["--rows", "100000", "--seed", "404", "--out", csv]);
  execFileSync(generator, ["--export", "--from", csv, "--records-per-file", "25000", "--out", zip]);
  const expected = countsOf(readFileSync(csv, "utf8"));
  // What the producer reports for the same archive (into a topic nobody counts).
  const cli = cliTable(
    execFileSync(producer, ["--file", zip, "--topic", `${topic}_cli`, "--person", importer], { encoding: "utf8" }),
  );
  expect(cli).toHaveLength(4);

  await page.goto("/sign-in");
  await page.getByLabel("Name").fill(importer);
  await page.getByLabel("Password").fill(password);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("navigation", { name: "Account" })).toContainText(importer);
  await page.getByRole("link", { name: "Import", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Import your Spotify history" })).toBeVisible();
  await expect(page.getByText("No imports from this page yet.")).toBeVisible();

  // Every state the page shows is noted, to see the import's progress go by.
  await page.evaluate(() => {
    const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
    new MutationObserver(() => {
      for (const status of document.querySelectorAll("[role=status]")) seen.push(status.textContent ?? "");
      for (const cell of document.querySelectorAll("table[aria-label='Files of the import'] td:last-child"))
        seen.push(cell.textContent ?? "");
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await upload(page, zip);
  const state = page.locator(".import-state");
  await expect(state).toContainText(`my_spotify_data.zip imported: ${expected.events.toLocaleString("en-US")} listens sent.`, {
    timeout: 120_000,
  });
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  expect(seen.some((text) => text.startsWith("Importing my_spotify_data.zip"))).toBe(true);
  expect(seen.some((text) => text === "reading…" || text === "waiting for Kafka…")).toBe(true);
  // The same table as the producer's for the same file.
  expect(await pageTable(page)).toEqual(cli);

  // The dashboard counts what the export holds, computed here.
  await page.getByRole("link", { name: "Listening analytics" }).click();
  const summary = async () => (await (await page.request.get("/api/summary")).json()).events as number;
  await expect.poll(summary, { timeout: 60_000 }).toBe(expected.events);
  const top = (await (await page.request.get("/api/top-artists?limit=5")).json()) as { artist_name: string; plays: number }[];
  const most = [...expected.artists.values()].sort((a, b) => b - a).slice(0, 5);
  expect(top.map((artist) => artist.plays)).toEqual(most);
  for (const artist of top) expect(expected.artists.get(artist.artist_name)).toBe(artist.plays);
  await expect(page.getByRole("region", { name: "Totals" })).toContainText(expected.events.toLocaleString("en-US"));

  // The same export again: every file skipped, nothing counted twice.
  await page.getByRole("link", { name: "Import", exact: true }).click();
  await upload(page, zip);
  await expect(page.getByRole("button", { name: "Import them again" })).toBeVisible({ timeout: 60_000 });
  await expect(state).toContainText("Nothing new in my_spotify_data.zip: every file was imported before.");
  const statuses = page.getByRole("table", { name: "Files of the import" }).locator("tbody td:last-child");
  await expect(statuses).toHaveCount(4);
  for (const status of await statuses.allTextContents()) expect(status).toMatch(/^skipped: imported before on .* \(as Streaming_History_Audio_.*\.json, [\d,]+ listens\)$/);
  const history = page.getByRole("table", { name: "Import history" }).locator("tbody tr");
  await expect(history).toHaveCount(2);
  await page.screenshot({ path: "artifacts/import.png", fullPage: true });

  // An image: refused with what was expected.
  const image = join(dir, "holiday.png");
  writeFileSync(image, Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"));
  await upload(page, image);
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("holiday.png was not imported.");
  await expect(alert).toContainText("Upload my_spotify_data.zip as Spotify sent it");
  expect(await summary()).toBe(expected.events);
  // The browser logs the refusal's status itself; nothing else may err.
  expect(errors.filter((error) => !error.includes("status of 422"))).toEqual([]);
});
