// Runs one service as its own process (as in production) against a fresh database, with a local
// JWKS endpoint standing in for identity so the bench can mint the tokens its calls carry.
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import http from "node:http";
import { type AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase, freePort } from "@cloudforet/testing";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ServiceProcess {
  /** The service's base URL (h2c and HTTP/1.1 on one port). */
  url: string;
  /** Its database, for the baseline and for checking what was stored. */
  databaseUrl: string;
  /** A domain admin's bearer token for domain-default. */
  token: string;
  stop(): Promise<void>;
}

/** Starts services/<name>/src/main.ts with DATABASE_URL set to a new database; waits until it is ready. */
export async function startServiceProcess(name: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const database: TestDatabase = await createTestDatabase(`bench_${name.replace(/-/g, "_")}`);
  const keys = generateKeyPairSync("ed25519");
  const jwks = await serveJwks(keys.publicKey);
  const port = await freePort();
  const prefix = name.toUpperCase().replace(/-/g, "_");
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "services", name, "src", "main.ts")], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: database.url, [`${prefix}_ADDR`]: `127.0.0.1:${port}`, IDENTITY_URL: jwks.url, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    jwks.close();
    await database.drop();
  };
  try {
    await waitReady(url, child);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, databaseUrl: database.url, token: adminToken(keys.privateKey), stop };
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString("base64url");

/** An EdDSA access token for domain-default's admin, as identity would sign it. */
function adminToken(privateKey: KeyObject): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: "EdDSA", kid: "bench" }));
  const claims = { iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub: "admin", did: "domain-default", ws: [], roles: [{ role: "DOMAIN_ADMIN" }], typ: "access", iat: now, exp: now + 3600 };
  const payload = base64url(JSON.stringify(claims));
  return `${header}.${payload}.${base64url(sign(null, Buffer.from(`${header}.${payload}`), privateKey))}`;
}

async function serveJwks(publicKey: KeyObject): Promise<{ url: string; close(): void }> {
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "bench", alg: "EdDSA", use: "sig" };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode} before it was ready`);
    const ready = await fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the service at ${url} was not ready within 60 s`);
}
