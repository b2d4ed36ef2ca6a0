import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionFromSecret, createLogger, PrismClient } from "../../plugins/collector-nutanix/src/index";
import { startPrismSimulator, type PrismSimulator } from "../support/prism-simulator";

const logger = createLogger("silent");
let sim: PrismSimulator;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prism-tls-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=prism.nutanix.local", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
  sim = await startPrismSimulator({ vms: 3, tls: { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") } });
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const secret = (verify_ssl: boolean) => ({ nutanix_host: sim.url, nutanix_username: sim.username, nutanix_password: sim.password, verify_ssl });

describe("verify_ssl against a self-signed Prism over https", () => {
  it("verify_ssl false accepts the certificate", async () => {
    const prism = new PrismClient(connectionFromSecret(secret(false)), { logger });
    expect(await prism.listVms()).toHaveLength(3);
    prism.close();
  });

  it("verify_ssl true rejects it at once with a clear, non-retried ERROR_INVALID_PARAMETER", async () => {
    const prism = new PrismClient(connectionFromSecret(secret(true)), { logger, retry: { baseDelayMs: 1 }, breaker: { failureThreshold: 1 } });
    const err = await prism.verify().then(() => expect.fail("expected an error"), (e: unknown) => e);
    expect(err).toMatchObject({ code: "ERROR_INVALID_PARAMETER", category: "VALIDATION_ERROR" });
    expect((err as Error).message).toBe("Prism's TLS certificate was rejected (DEPTH_ZERO_SELF_SIGNED_CERT); set verify_ssl to false in the secret for a self-signed Prism");
    expect(prism.attempts).toBe(1);
    expect(prism.breakerState).toBe("closed");
    prism.close();
  });
});
