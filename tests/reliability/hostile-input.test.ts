import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { inventoryModule } from "@cloudforet/inventory";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { orchestrationModule } from "@cloudforet/orchestration";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { startTestPlatform } from "../support/platform";
import { postClientStream, postUnary, type RawAnswer } from "./connect-raw";
import { createObjects } from "./fixtures";
import { requestArbitrary } from "./hostile-json";
import { reflectMethods } from "./reflection";

/**
 * Issue 9 §2 "Hostile input": every unary and client-streaming RPC of every service (found through
 * reflection) gets malformed Connect-JSON requests; every answer must be a taxonomy code other than
 * INTERNAL/UNKNOWN, every service must still answer health afterwards, and the heap must stay bounded.
 * FAST_CHECK_RUNS raises the number of requests per RPC (default 15); FAST_CHECK_SEED replays a run.
 */

const runs = Number(process.env.FAST_CHECK_RUNS ?? 15);
const seed = process.env.FAST_CHECK_SEED ? Number(process.env.FAST_CHECK_SEED) : undefined;
/** Orchestration is covered unless RELIABILITY_ORCHESTRATION=0. */
const withOrchestration = process.env.RELIABILITY_ORCHESTRATION !== "0";
const SERVICES = ["identity", "inventory", "cloud-service", "cost", "monitoring", "notification", ...(withOrchestration ? ["orchestration"] : [])];
/** Calls that would lock the test out of everything after them (none are in the id pools). */
const PROTECTED_IDS = new Set(["admin", "domain-default"]);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const platform = await startTestPlatform({ modules: [inventoryModule, cloudServiceModule, costModule, monitoringModule, notificationModule, ...(withOrchestration ? [orchestrationModule] : [])] });
const ids = await createObjects(platform, platform.admin, "hostile");
const methods = (await reflectMethods(SERVICES.map((name) => platform.url(name)))).filter((m) => m.method.methodKind === "unary" || m.method.methodKind === "client_streaming");
const heapBefore = heapUsed();

/** Existing ids for fields that name them, so some requests reach the rows behind the validation. */
const plausibleStrings = (field: string): string[] => {
  const pool = [ids[field], field.endsWith("_ids") ? ids[field.slice(0, -1)] : undefined, "2024-01-15", "nutanix", "USD"];
  return pool.filter((v): v is string => v !== undefined && !PROTECTED_IDS.has(v));
};

afterAll(async () => {
  await platform?.close();
});

const truncate = (text = "", max = 600) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);
/** INTERNAL or UNKNOWN, or a 5xx that is not UNIMPLEMENTED (501), UNAVAILABLE (503) or DEADLINE_EXCEEDED (504). */
const unexpected = (answer: RawAnswer) =>
  answer.code === "internal" || answer.code === "unknown" || (answer.status >= 500 && ![501, 503, 504].includes(answer.status));

/** The leading messages that fit in `budget` characters of JSON together. */
function withinBytes(messages: unknown[], budget: number): unknown[] {
  const kept: unknown[] = [];
  let used = 2;
  for (const message of messages) {
    const size = JSON.stringify(message).length + 1;
    if (used + size > budget) break;
    kept.push(message);
    used += size;
  }
  return kept;
}

describe("hostile input", () => {
  it("reflection finds the RPCs of every service", () => {
    expect(methods.length).toBeGreaterThan(70);
    for (const name of SERVICES) expect(methods.some((m) => m.baseUrl === platform.url(name))).toBe(true);
  });

  describe.each(SERVICES)("%s", (name) => {
    const served = methods.filter((m) => m.baseUrl === platform.url(name));
    it.each(served.map((m) => [m.procedure, m] as const))("%s answers malformed requests with a taxonomy code", async (_procedure, m) => {
      const body = requestArbitrary(m.method.input, { plausibleStrings });
      const streaming = m.method.methodKind === "client_streaming";
      // A stream of up to 3 messages, together under ~500 KB (valid items in them are real upserts):
      // messages past the budget are left out, rather than whole streams rejected and generated again
      // (with large messages such as BatchUpsert's items, rejection sampling took minutes).
      const call = streaming ? fc.array(body, { maxLength: 3 }).map((messages) => withinBytes(messages, 500_000)) : body;
      let last: RawAnswer | undefined;
      const result = await fc.check(
        fc.asyncProperty(call, async (request) => {
          last = streaming
            ? await postClientStream(m.baseUrl, m.procedure, request as unknown[], platform.admin.token)
            : await postUnary(m.baseUrl, m.procedure, request, platform.admin.token);
          return !unexpected(last);
        }),
        { numRuns: runs, seed, endOnFailure: !process.env.FAST_CHECK_SHRINK },
      );
      const report = result.failed
        ? `${last?.status} ${last?.code}: ${last?.message} (seed ${result.seed}, path ${result.counterexamplePath}) for ${truncate(JSON.stringify(result.counterexample?.[0]))}${result.errorInstance ? ` — threw ${String(result.errorInstance)}` : ""}`
        : "";
      expect(report).toBe("");
      // Each call has its own 60 s limit (connect-raw), so a hang is reported with its request.
    }, runs * 10_000);
  });

  it("every service still answers health and the heap stayed bounded", async () => {
    for (const name of SERVICES) {
      const live = await fetch(`${platform.url(name)}/health/live`);
      expect(live.status, name).toBe(200);
      const check = await postUnary(platform.url(name), "grpc.health.v1.Health/Check", {});
      expect(check.body, name).toMatchObject({ status: "SERVING" });
    }
    const growth = heapUsed() - heapBefore;
    expect(growth, `heap grew by ${Math.round(growth / 2 ** 20)} MiB`).toBeLessThan(256 * 2 ** 20);
  });
});
