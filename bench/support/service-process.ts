// Runs one service as its own process (as in production) against a fresh database, with a local
// JWKS endpoint standing in for identity so the bench can mint the tokens its calls carry.
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import http from "node:http";
import { type AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase, freePort, startServiceProcess as startProcess, type ServiceProcess as ChildService } from "@cloudforet/testing";

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

/** Required with DATABASE_URL by the services that seal credentials. */
const BENCH_CREDENTIALS_KEYS = {
  NOTIFICATION_CREDENTIALS_KEYS: `bench:${Buffer.alloc(32, 4).toString("base64")}`,
  ORCHESTRATION_CREDENTIALS_KEYS: `bench:${Buffer.alloc(32, 5).toString("base64")}`,
  INVENTORY_CREDENTIALS_KEYS: `bench:${Buffer.alloc(32, 6).toString("base64")}`,
  CLOUDFORET_OUTBOUND_ALLOW: "127.0.0.1/32,::1", // local plugins, webhooks and targets
};

/** Starts services/<name>/src/main.ts with DATABASE_URL set to a new database; waits until it is ready. */
export async function startServiceProcess(name: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const database: TestDatabase = await createTestDatabase(`bench_${name.replace(/-/g, "_")}`);
  const keys = generateKeyPairSync("ed25519");
  const jwks = await serveJwks(keys.publicKey);
  let service: ChildService;
  try {
    service = await startProcess({
      root: repoRoot,
      name,
      port: await freePort(),
      env: { DATABASE_URL: database.url, IDENTITY_URL: jwks.url, LOG_LEVEL: "warn", ...BENCH_CREDENTIALS_KEYS, ...env },
      stdio: "inherit",
    });
  } catch (err) {
    jwks.close();
    await database.drop();
    throw err;
  }
  const stop = async () => {
    await service.stop();
    jwks.close();
    await database.drop();
  };
  return { url: service.url, databaseUrl: database.url, token: adminToken(keys.privateKey), stop };
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
