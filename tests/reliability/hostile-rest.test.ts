import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { startOrchestration } from "../orchestration/support";
import { sendRest, type RawAnswer } from "./connect-raw";
import { hostileEncoding, plantedArbitrary } from "./hostile-json";

/**
 * The Orch8-compatible REST API under hostile input: bad percent-encoding, NUL and lone surrogates
 * in paths, queries, keys and nested values, offsets past any integer, dates JS accepts and
 * Postgres does not, bodies 10,000 levels deep. Every answer is a 4xx `{"error": …}`, never a 500,
 * and the API stays up. FAST_CHECK_RUNS raises the number of requests per route (default 25).
 */

const runs = Number(process.env.FAST_CHECK_RUNS ?? 25);
const seed = process.env.FAST_CHECK_SEED ? Number(process.env.FAST_CHECK_SEED) : undefined;

const orch = await startOrchestration();
const token = await orch.token("acme");
const rest = (method: string, path: string, body?: unknown) => sendRest(orch.restUrl, method, path, body, token);
const sequence = (await rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name: "hostile", version: 1, blocks: [{ type: "step", id: "s", handler: "noop" }] })).body as { id: string };
const instance = (await rest("POST", "/instances", { sequence_id: sequence.id, tenant_id: "acme", namespace: "default" })).body as { id: string };

afterAll(async () => {
  await orch?.close();
});

const serverError = (answer: RawAnswer) => answer.status >= 500 && answer.status !== 503;
/** 400 with `{"error": …}` naming the field. */
const refused = (answer: RawAnswer, field: string) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(400);
  expect((answer.body as { error: string }).error).toContain(field);
};
const describeRequest = (request: unknown) => {
  try {
    return JSON.stringify(request).slice(0, 600);
  } catch {
    return "(a request too deep to print)";
  }
};

describe("REST regressions", () => {
  it("refuses an offset past any integer, naming it", async () => {
    for (const path of ["/instances?offset=99999999999999999999", "/cron?offset=99999999999999999999", "/triggers?offset=1e400", "/rate-limits?offset=99999999999999999999"]) {
      refused(await rest("GET", path), "offset");
    }
    refused(await rest("GET", "/recurrent-requests?skip=99999999999999999999"), "skip");
    expect((await rest("GET", "/instances?offset=5&limit=10")).status).toBe(200);
  });

  it("refuses next_fire_at outside 0001..9999 (JS dates reach +275760), naming it", async () => {
    refused(await rest("POST", "/instances", { sequence_id: sequence.id, tenant_id: "acme", namespace: "default", next_fire_at: "+275760-09-13T00:00:00Z" }), "next_fire_at");
    refused(await rest("POST", "/instances", { sequence_id: sequence.id, tenant_id: "acme", namespace: "default", next_fire_at: "-000001-01-01T00:00:00Z" }), "next_fire_at");
    refused(await rest("PATCH", `/instances/${instance.id}/state`, { state: "scheduled", next_fire_at: "+275760-09-13T00:00:00Z" }), "next_fire_at");
  });

  it("names the nested field holding NUL or a lone surrogate", async () => {
    refused(await rest("POST", "/sequences", `{"tenant_id":"acme","namespace":"default","name":"n","blocks":[{"type":"step","id":"s","handler":"http","params":{"url":"http://x/\\u0000"}}]}`), "blocks[0].params.url");
    refused(await rest("POST", "/instances", `{"sequence_id":"${sequence.id}","tenant_id":"acme","namespace":"default","context":{"a":{"b":"\\ud800x"}}}`), "context.a.b");
    refused(await rest("POST", "/instances", `{"sequence_id":"${sequence.id}","tenant_id":"acme","namespace":"default","metadata":{"\\udc00":1}}`), "metadata");
    refused(await rest("POST", `/instances/${instance.id}/signals`, `{"signal_type":"update_context","payload":{"note":"a\\u0000"}}`), "payload.note");
  });

  it("refuses a number beyond 2^53 (version: 1e308 overflowed an integer column)", async () => {
    refused(await rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name: "big", version: 1e308, blocks: [{ type: "step", id: "s", handler: "noop" }] }), "version");
    // A string of digits past any integer (fuzz seed 144484627), and one past the integer column.
    refused(await rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name: "big", version: "99999999999999999999", blocks: [{ type: "step", id: "s", handler: "noop" }] }), "version");
    refused(await rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name: "big", version: 2 ** 31, blocks: [{ type: "step", id: "s", handler: "noop" }] }), "version");
    refused(await rest("GET", "/sequences/by-name?tenant_id=acme&namespace=default&name=hostile&version=4294967296"), "version");
  });

  it("refuses a body nested 10,000 levels deep with 400", async () => {
    const depth = 10_000;
    refused(await rest("POST", "/instances", `{"sequence_id":"${sequence.id}","namespace":"default","context":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`), "context");
    expect((await rest("POST", "/sequences", `${"[".repeat(depth)}${"]".repeat(depth)}`)).status).toBe(400);
  });

  it("refuses bad percent-encoding and NUL in path parameters and queries", async () => {
    for (const path of ["/instances/%E0%A4%A", "/instances/%ED%A0%80", "/instances/a%00b", "/triggers/%FF", "/rate-limits/%00"]) {
      expect((await rest("GET", path)).status, path).toBe(400);
    }
    refused(await rest("PATCH", "/instances/%E0%A4%A/state", { state: "paused" }), "id");
    refused(await rest("GET", "/instances?namespace=a%00b"), "namespace");
    refused(await rest("GET", "/sequences/by-name?tenant_id=acme&namespace=default&name=%00"), "name");
  });
});

describe("REST fuzz", () => {
  // Valid bodies of several routes; the property plants one hostile value somewhere in each.
  const bodies: [string, string, () => unknown][] = [
    ["POST", "/sequences", () => ({ tenant_id: "acme", namespace: "default", name: "fuzz", version: 1, blocks: [{ type: "step", id: "s", handler: "http", params: { url: "http://x", headers: { a: "b" } } }] })],
    ["POST", "/instances", () => ({ sequence_id: sequence.id, tenant_id: "acme", namespace: "default", priority: "normal", context: { a: { b: "c" }, list: [1, "x"] }, metadata: { k: "v" }, next_fire_at: "2030-01-01T00:00:00Z" })],
    ["POST", "/instances/batch", () => ({ instances: [{ sequence_id: sequence.id, tenant_id: "acme", namespace: "default", context: { a: 1 } }] })],
    ["PATCH", `/instances/${instance.id}/context`, () => ({ context: { data: { a: [1, { b: "c" }] } } })],
    ["POST", `/instances/${instance.id}/signals`, () => ({ signal_type: "update_context", payload: { note: "hi" } })],
    ["POST", "/cron", () => ({ tenant_id: "acme", namespace: "default", sequence_id: sequence.id, cron_expr: "0 * * * *", timezone: "UTC", metadata: { a: "b" } })],
    ["POST", "/triggers", () => ({ slug: "fuzz", namespace: "default", sequence_id: sequence.id, secret: "s3cret-value" })],
    ["POST", "/recurrent-requests", () => ({ name: "fuzz", recurrence: { schedule_type: "interval", interval_seconds: 60 }, target: { url: "http://127.0.0.1:9/x", method: "POST", json: { a: 1 } } })],
    ["POST", "/recurrent-requests", () => ({ name: "fuzz-run-as", status: "paused", recurrence: { schedule_type: "interval", interval_seconds: 60 }, target: { rpc: "cloudforet.identity.v1.ProjectService/List", json: {}, run_as_workspace_id: "ws-fuzz" } })],
    ["PUT", "/rate-limits/fuzz", () => ({ max_count: 5, window: "1m" })],
    ["POST", "/workers/tasks/poll", () => ({ handler_name: "email_send", worker_id: "w", limit: 1 })],
  ];

  it.each(bodies)("%s %s answers hostile nested values without a 500", async (method, path, base) => {
    let last: RawAnswer | undefined;
    let sent: unknown;
    const result = await fc.check(
      fc.asyncProperty(plantedArbitrary(base()), async (body) => {
        sent = body;
        last = await rest(method, path, body);
        return !serverError(last);
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    const report = result.failed ? `${last?.status}: ${JSON.stringify(last?.body)} (seed ${result.seed}) for ${describeRequest(sent)}${result.errorInstance ? ` — threw ${String(result.errorInstance)}` : ""}` : "";
    expect(report).toBe("");
  }, runs * 5_000);

  const paths = [
    (x: string) => `/instances/${x}`,
    (x: string) => `/instances/${x}/outputs`,
    (x: string) => `/sequences/${x}`,
    (x: string) => `/cron/${x}`,
    (x: string) => `/triggers/${x}`,
    (x: string) => `/rate-limits/${x}`,
    (x: string) => `/recurrent-requests/${x}`,
    (x: string) => `/instances?namespace=${x}&offset=${x}`,
    (x: string) => `/instances?limit=${x}`,
    (x: string) => `/cron?tenant_id=${x}`,
    (x: string) => `/sequences/by-name?tenant_id=acme&namespace=${x}&name=${x}`,
    (x: string) => `/recurrent-requests?skip=${x}&limit=${x}`,
  ];
  const hostileSegment = fc.oneof(hostileEncoding, fc.constantFrom("99999999999999999999", "-1", "1e400", "+275760-09-13T00:00:00Z"), fc.tuple(fc.string({ maxLength: 8 }), hostileEncoding).map(([a, b]) => `${encodeURIComponent(a)}${b}`));

  it("answers hostile path parameters and queries without a 500", async () => {
    let last: RawAnswer | undefined;
    let sent = "";
    const result = await fc.check(
      fc.asyncProperty(fc.constantFrom(...paths), hostileSegment, fc.constantFrom("GET", "DELETE"), async (path, segment, method) => {
        sent = `${method} ${path(segment)}`;
        last = await rest(method, path(segment));
        return !serverError(last);
      }),
      { numRuns: runs * 4, seed, endOnFailure: true },
    );
    expect(result.failed ? `${last?.status}: ${JSON.stringify(last?.body)} for ${sent}` : "").toBe("");
  }, runs * 20_000);

  it("stays up", async () => {
    expect((await fetch(`${orch.restUrl}/health/live`)).status).toBe(200);
    expect((await rest("GET", `/instances/${instance.id}`)).status).toBe(200);
  });
});
