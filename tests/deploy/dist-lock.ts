import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const lockDir = path.join(tmpdir(), "cloudforet-ts-dist.lock");

/**
 * Runs fn while no other test file of tests/deploy writes dist/: readme-command.test.ts (`npm start`
 * rebuilds stale bundles) and image.test.ts (reads them into the image layout) run in parallel
 * workers. A lock whose holder has exited (or older than ten minutes) is taken over.
 */
export async function withDistLock<T>(fn: () => Promise<T>): Promise<T> {
  const release = await acquireDistLock();
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Waits for the lock; the function returned releases it (once). */
export async function acquireDistLock(): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(path.join(lockDir, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > 600_000 || !alive(Number(readFileSync(path.join(lockDir, "pid"), "utf8")))) rmSync(lockDir, { recursive: true, force: true });
      } catch {
        // released meanwhile, or its pid not written yet
      }
      await sleep(200);
    }
  }
  let held = true;
  return () => {
    if (held) rmSync(lockDir, { recursive: true, force: true });
    held = false;
  };
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true; // being written
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
