// Production runs compiled JavaScript: `pnpm build` bundles a service into dist/<service>.mjs, and
// plain `node` (no TypeScript loader) runs it: it starts, migrates and answers health, over HTTP and
// gRPC. Identity is built because it is the service the others need first. It runs on a database of
// its own and the in-process bus (no NATS_URL), so the test shares no state with others.
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { createTestDatabase, freePort, startServiceProcess } from "@cloudforet/testing";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("the compiled service bundle", () => {
  it("builds dist/identity.mjs, which plain node starts and which answers health", { timeout: 240_000 }, async () => {
    const build = spawnSync(process.execPath, [path.join(root, "scripts/build.mjs"), "identity"], { cwd: root, encoding: "utf8", timeout: 180_000 });
    expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
    const bundle = await readFile(path.join(root, "dist/identity.mjs"), "utf8");
    // Compiled: no TypeScript module is imported at run time, and third-party packages stay external.
    expect(bundle).not.toMatch(/from "[^"]+\.ts"/);
    expect(bundle).toMatch(/from "\.\.\/node_modules\//);

    const database = await createTestDatabase("identity_bundle");
    const identity = await startServiceProcess({
      root,
      name: "identity",
      entry: "dist/identity.mjs",
      port: await freePort(),
      env: { DATABASE_URL: database.url, LOG_LEVEL: "info", CLOUDFORET_ADMIN_PASSWORD: "Bundle-Adm1n-Pass", IDENTITY_SECRET_KEYS: `bundle:${Buffer.alloc(32, 7).toString("base64")}` },
      // None of this process's database, bus or identity settings but the test's.
      inheritEnv: (name) => name === "CLOUDFORET_LOG_CAPTURE" || !/^(DATABASE_URL|NATS_URL|IDENTITY_|CLOUDFORET_|LOG_LEVEL)/.test(name),
      readyTimeoutMs: 120_000,
    });
    try {
      const live = await fetch(`${identity.url}/health/live`);
      expect(live.status).toBe(200);
      const health = createClient(Health, createGrpcTransport({ baseUrl: identity.url }));
      expect((await health.check({ service: "cloudforet.identity.v1.AuthService" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      expect(identity.output()).not.toMatch(/tsx/);
    } finally {
      await identity.stop(60_000);
      await database.drop();
    }
  });
});
