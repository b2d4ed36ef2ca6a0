import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findLeaks, scanTables } from "./leak-scan";
import { sweepCapture } from "./leak-sweep";
import { SECRET_CANARY_PREFIX, secretCanary } from "./secret-canary";
import { createTestSchema } from "./test-schema";

// A JWT of the shape identity issues (the signature need not verify: the scanner looks at the shape).
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const jwt = `${b64({ alg: "EdDSA", kid: "k1" })}.${b64({ sub: "admin", did: "domain-default", exp: 1 })}.${"s".repeat(86)}`;
const apiKey = `cfk_${"A1b2-_".repeat(7)}x`;

describe("findLeaks", () => {
  it("finds a canary, a JWT and an API key in a log line", () => {
    const canary = secretCanary("password");
    const line = JSON.stringify({ level: "info", msg: "login", body: { password: canary, note: `Bearer ${jwt}`, key: apiKey } });
    expect(findLeaks(line).map((l) => l.kind)).toEqual(["secret canary", "JWT", "API key"]);
  });

  it("passes clean lines, redacted values and the stored key prefix", () => {
    expect(findLeaks(JSON.stringify({ level: "info", password: "[redacted]", key_prefix: "cfk_AbCd", msg: `${SECRET_CANARY_PREFIX}is the prefix` }))).toEqual([]);
  });

  it("shortens what it reports, so the report does not repeat the secret", () => {
    const [leak] = findLeaks(apiKey);
    expect(leak.excerpt.length).toBeLessThan(apiKey.length);
  });
});

describe("scanTables", () => {
  const planted = createTestSchema("leak_scan");
  afterAll(async () => (await planted).drop());

  it("finds a secret planted in a jsonb column and counts every row it read", async () => {
    const { sql, schema } = await planted;
    await sql`create table holders (id int primary key, data jsonb)`;
    await sql`insert into holders select i, jsonb_build_object('n', i) from generate_series(1, 50) as i`;
    expect(await scanTables(sql, [schema])).toMatchObject({ tables: 1, rows: 50, findings: [] });

    await sql`update holders set data = ${JSON.stringify({ nested: { password: secretCanary("planted") } })}::jsonb where id = 7`;
    await sql`insert into holders values (51, ${JSON.stringify({ token: jwt })}::jsonb)`;
    const scan = await scanTables(sql, [schema]);
    expect(scan.rows).toBe(51);
    expect(scan.findings.map((f) => f.replace(/ \S+…$/, ""))).toEqual([`${schema}.holders: secret canary`, `${schema}.holders: JWT`]);

    // Clean again, so this file's own drop-time scan (under the suite's sweep) records no leak.
    await sql`delete from holders where id in (7, 51)`;
  });
});

describe("sweepCapture", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sweep-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reports a leak planted in a captured log file and in a table scan, and counts what it read", () => {
    writeFileSync(path.join(dir, "logs-1.jsonl"), [`{"level":"info","msg":"ok"}`, `{"level":"info","msg":"called","authorization":"Bearer ${jwt}"}`, ""].join("\n"));
    writeFileSync(path.join(dir, "tables-1.jsonl"), `${JSON.stringify({ scope: "db/*", tables: 3, rows: 40, findings: ["identity.secrets: API key cfk_A1b2-_A1b2…"] })}\n`);
    writeFileSync(path.join(dir, "canaries-1.txt"), "password\nsecret\n");
    expect(sweepCapture(dir)).toEqual({
      logFiles: 1,
      logLines: 2,
      scopes: 1,
      tables: 3,
      rows: 40,
      canaries: 2,
      leaks: ["logs-1.jsonl:2 JWT eyJhbGciOiJFZE…", "db/*: identity.secrets: API key cfk_A1b2-_A1b2…"],
      errors: [],
    });
  });

  it("counts a scan that could not run as an error", () => {
    writeFileSync(path.join(dir, "tables-2.jsonl"), `${JSON.stringify({ scope: "db/*", error: "relation vanished" })}\n`);
    expect(sweepCapture(dir).errors).toEqual(["db/*: relation vanished"]);
  });
});
