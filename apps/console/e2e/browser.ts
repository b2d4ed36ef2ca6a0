// Debian's Chromium driven by playwright-core, for the console's end-to-end tests and screenshots.
// Never `playwright install`: scripts/install-chromium.sh installs the system browser.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const consoleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const distDir = path.join(consoleDir, "dist");

export interface ConsoleBrowser {
  browser: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile; throws a clear message when the binary is missing. */
export async function launchChromium(): Promise<ConsoleBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the console's browser tests need Debian's Chromium. Run \`bash scripts/install-chromium.sh\` (apt-get install -y chromium).`);
  }
  const profile = mkdtempSync(path.join(tmpdir(), "cf-console-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 820 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  return {
    browser: context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** `vite build` into apps/console/dist (a few seconds), so tests never run against a stale bundle. */
export function buildConsole(): void {
  const vite = path.join(consoleDir, "node_modules", ".bin", "vite");
  const result = spawnSync(vite, ["build", "--logLevel", "warn"], { cwd: consoleDir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`vite build of apps/console failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
}

export type { Browser, Page } from "playwright-core";
