import { defineConfig } from "@playwright/test";

// scripts/test.sh starts the server with a topic and database of its own,
// creates the test person and passes its address in BASE_URL; the browser is
// Debian's Chromium.
export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 120_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3000",
    screenshot: "only-on-failure",
    // The test person's session, signed in by global-setup.ts.
    storageState: "artifacts/.signed-in.json",
    trace: "retain-on-failure",
    // The suite reads numbers and days in the default conventions (1,234 and
    // 2024-03-05): those of a browser whose language the server has no data
    // for, as World English. locale.spec.ts asks for others.
    locale: "en-001",
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        viewport: { width: 1400, height: 1000 },
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
          ],
        },
      },
    },
  ],
});
