import { chromium, type FullConfig } from "@playwright/test";
import { mkdirSync } from "node:fs";

/** Where the signed-in session of the test person is kept between tests. */
export const SIGNED_IN = "artifacts/.signed-in.json";

// scripts/test.sh creates the test person; sign in once through the form,
// as a person would, and keep the session for every test.
export default async function globalSetup(config: FullConfig) {
  const baseURL = config.projects[0].use.baseURL as string;
  const name = process.env.E2E_NAME;
  const password = process.env.E2E_PASSWORD;
  if (!name || !password) throw new Error("E2E_NAME and E2E_PASSWORD must be set (scripts/test.sh sets them)");
  const browser = await chromium.launch(config.projects[0].use.launchOptions);
  const page = await browser.newPage({ baseURL });
  await page.goto("/");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/");
  mkdirSync("artifacts", { recursive: true });
  await page.context().storageState({ path: SIGNED_IN });
  await browser.close();
}
