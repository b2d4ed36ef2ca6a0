import { randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";

/**
 * Every secret value a test hands the platform (a secret's data, a password, a channel credential)
 * starts with this, so the secrets sweep can look for all of them at once: none may appear in a
 * table or a log line. Nothing else a test writes may start with it.
 */
export const SECRET_CANARY_PREFIX = "cfCanary-";

/** Where the suite collects captured logs and sweep records (set by scripts/test.mjs). */
export const captureDir = (): string | undefined => process.env.CLOUDFORET_LOG_CAPTURE || undefined;

/**
 * A unique secret value with the canary prefix, e.g. `cfCanary-password-1f9c0a7e3b2d`. Long and
 * mixed enough to pass any password rule. With a capture directory set, the issue is recorded,
 * so the sweep can refuse to pass when no test planted a canary at all.
 */
export function secretCanary(label = "secret"): string {
  const value = `${SECRET_CANARY_PREFIX}${label.replace(/[^A-Za-z0-9_]/g, "_")}-${randomBytes(6).toString("hex")}`;
  const dir = captureDir();
  if (dir) {
    mkdirSync(dir, { recursive: true });
    appendFileSync(path.join(dir, `canaries-${process.pid}.txt`), `${label}\n`);
  }
  return value;
}
