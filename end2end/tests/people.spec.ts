import { expect, test, type Browser, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Set by scripts/test.sh: the producer, the server's topic, and an administrator.
const producer = required("PRODUCER_BIN");
const topic = required("KAFKA_TOPIC");
const admin = required("E2E_ADMIN");
const adminPassword = required("E2E_ADMIN_PASSWORD");
/** The person the sample belongs to: someone else, to the newcomer. */
const other = required("E2E_NAME");

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (scripts/test.sh sets it)`);
  return value;
}

// Each test signs in by itself: nobody is signed in at first.
test.use({ storageState: { cookies: [], origins: [] } });

/** A page of a new browser context that records every console error. */
async function freshPage(browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ baseURL: process.env.BASE_URL });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return page;
}

async function signIn(page: Page, name: string, password: string) {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("navigation", { name: "Account" })).toContainText(name);
}

/** Streams `plays` listens of one made-up song as `person`. */
function produceAs(person: string, plays: number, artist: string) {
  const rows = ["spotify_track_uri,ts,platform,ms_played,track_name,artist_name,album_name,reason_start,reason_end,shuffle,skipped"];
  for (let i = 0; i < plays; i++) {
    rows.push(`e2ePeople${plays}x,2025-05-0${1 + (i % 9)} 10:${String(i % 60).padStart(2, "0")}:00,web player,120000,Only Mine,${artist},Mine,clickrow,trackdone,FALSE,FALSE`);
  }
  const file = join(mkdtempSync(join(tmpdir(), "e2e-")), "mine.csv");
  writeFileSync(file, rows.join("\n") + "\n");
  execFileSync(producer, ["--file", file, "--topic", topic, "--person", person], { encoding: "utf8" });
}

test("a newcomer joins through an invitation, sees only their own listening, shares it read-only and deletes it", async ({
  browser,
}) => {
  const errors: string[] = [];

  // The administrator invites someone; the link is shown once.
  const adminPage = await freshPage(browser, errors);
  await signIn(adminPage, admin, adminPassword);
  await adminPage.getByRole("link", { name: "People" }).click();
  await expect(adminPage.getByRole("table", { name: "Accounts" })).toContainText(admin);
  await adminPage.getByRole("button", { name: "Make an invitation link" }).click();
  const invitation = await adminPage.locator(".notice.secret code").textContent();
  expect(invitation).toMatch(/\/invite\/sai_[0-9a-f]{64}$/);

  // The newcomer joins with the keyboard and lands on their own, empty dashboard.
  const name = `newcomer${Date.now() % 100000}`;
  const password = "a newcomer's password";
  const mine = await freshPage(browser, errors);
  await mine.goto(invitation as string);
  await mine.getByLabel("Name").fill(name);
  await mine.getByLabel(/^Password/).fill(password);
  await mine.keyboard.press("Enter");
  await expect(mine.getByRole("navigation", { name: "Account" })).toContainText(name);
  await expect(mine.getByRole("heading", { name: "No listens counted yet" })).toBeVisible();

  // What the administrator sees of another person: name and counts.
  const othersRow = async () => {
    await adminPage.goto("/admin");
    const nameCell = adminPage.getByRole("cell", { name: other, exact: true });
    return adminPage.getByRole("table", { name: "Accounts" }).locator("tbody tr").filter({ has: nameCell }).innerText();
  };
  const othersBefore = await othersRow();

  // Their listens arrive live, and only theirs: the others' (the sample) are not there.
  produceAs(name, 7, `Artist Of ${name}`);
  const totals = mine.getByRole("region", { name: "Totals" });
  await expect(totals).toContainText("7", { timeout: 30_000 });
  const summary = await (await mine.request.get("/api/summary")).json();
  expect(summary.events).toBe(7);
  await expect(mine.getByRole("table", { name: "Top artists", exact: true })).toContainText(`Artist Of ${name}`);
  const othersTop = await (await adminPage.request.get("/api/top-artists?limit=1")).json();
  for (const artist of othersTop) {
    await expect(mine.getByRole("table", { name: "Top artists", exact: true })).not.toContainText(artist.artist_name);
  }

  // A share link shows their dashboard read-only to someone without an account.
  await mine.goto("/settings");
  await mine.getByRole("button", { name: "Share my dashboard" }).click();
  const shareLink = await mine.locator(".notice.secret code").textContent();
  expect(shareLink).toMatch(/\/share\/sal_[0-9a-f]{64}$/);
  const guest = await freshPage(browser, errors);
  await guest.goto(shareLink as string);
  await expect(guest.getByRole("navigation", { name: "Account" })).toContainText(`${name}'s shared dashboard (read-only)`);
  await expect(guest.getByRole("region", { name: "Totals" })).toContainText("7");
  const settings = await guest.request.get("/settings");
  expect(settings.status()).toBe(404);

  // Deleting their data empties their dashboard, live; the share link then shows nothing either.
  await mine.getByLabel("Type your name to confirm").fill(name);
  await mine.getByRole("button", { name: "Delete my data" }).click();
  await expect(mine.getByRole("status").filter({ hasText: "being deleted" })).toBeVisible();
  await expect
    .poll(async () => (await (await mine.request.get("/api/summary")).json()).events, { timeout: 30_000 })
    .toBe(0);
  await mine.goto("/");
  await expect(mine.getByRole("heading", { name: "No listens counted yet" })).toBeVisible();
  // The others' figures are untouched.
  expect(await othersRow()).toBe(othersBefore);

  mkdirSync("artifacts", { recursive: true });
  await adminPage.goto("/admin");
  await adminPage.screenshot({ path: "artifacts/people.png", fullPage: true });
  expect(errors).toEqual([]);
});
