import postgres from "postgres";
import { Code, ConnectError } from "@connectrpc/connect";
import { RateLimitService } from "@cloudforet/proto/cloudforet/orchestration/v1/rate_limit_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, type TestOrchestration } from "./support";

// Flow control in one engine: concurrency keys (max 1, max 3) and fixed-window rate limits.

let orch: TestOrchestration;
let sql: postgres.Sql;

beforeAll(async () => {
  orch = await startOrchestration({ ORCHESTRATION_TICK_MS: "50" });
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await orch?.close();
});

/** Instances of `namespace` when all of them reached `state`. */
async function allIn(namespace: string, count: number, state = "completed", timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where namespace = ${namespace} and state = ${state}`;
      return n === count ? true : undefined;
    },
    timeoutMs,
    `${count} ${state} instances in ${namespace}`,
  );
}

/** [start, end] in ms of every instance of `namespace`, from the outputs of its `start` and `end` steps. */
async function intervals(namespace: string): Promise<Array<[number, number]>> {
  const rows = await sql<{ instance_id: string; block_id: string; at: Date }[]>`
    select o.instance_id, o.block_id, o.created_at as at from orchestration.block_outputs o
    join orchestration.instances i on i.id = o.instance_id where i.namespace = ${namespace} and o.block_id in ('start', 'end')`;
  const byInstance = new Map<string, { start?: number; end?: number }>();
  for (const row of rows) {
    const entry = byInstance.get(row.instance_id) ?? {};
    entry[row.block_id as "start" | "end"] = row.at.getTime();
    byInstance.set(row.instance_id, entry);
  }
  return [...byInstance.values()].map((e) => [e.start!, e.end!]);
}

/** The most intervals running at one instant (an end at t comes before a start at t: they do not overlap). */
function maxOverlap(spans: Array<[number, number]>): number {
  const events = spans.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (running += delta));
  return most;
}

const recorded = [
  { type: "step", id: "start", handler: "noop" },
  { type: "step", id: "work", handler: "sleep", params: { duration_ms: 20 } },
  { type: "step", id: "end", handler: "noop" },
];

async function flood(namespace: string, sequenceId: string, count: number, fields: Record<string, unknown>): Promise<void> {
  const instances = Array.from({ length: count }, () => ({ sequence_id: sequenceId, tenant_id: "acme", namespace, ...fields }));
  expect((await orch.rest("POST", "/instances/batch", { instances })).body).toEqual({ count });
}

describe("concurrency keys", () => {
  it("max_concurrency 1: 50 instances of one key never overlap, and all complete", async () => {
    const sequence = await createSequence(orch, "conc-one", recorded);
    await flood("conc1", sequence, 50, { concurrency_key: "contact:john@acme.com", max_concurrency: 1 });
    await allIn("conc1", 50);
    const spans = (await intervals("conc1")).sort((a, b) => a[0] - b[0]);
    expect(spans).toHaveLength(50);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    expect(maxOverlap(spans)).toBe(1);
    // Every slot was given back when its instance ended.
    const [{ slots }] = await sql`select count(*)::int as slots from orchestration.concurrency_slots`;
    expect(slots).toBe(0);
  }, 90_000);

  it("max_concurrency 3: at most 3 overlap (and more than one does); other keys are not held back", async () => {
    const sequence = await createSequence(orch, "conc-three", recorded);
    await flood("conc3", sequence, 50, { concurrency_key: "tenant-sync", max_concurrency: 3 });
    await flood("conc3-free", sequence, 10, {});
    await allIn("conc3-free", 10);
    await allIn("conc3", 50);
    const spans = await intervals("conc3");
    expect(spans).toHaveLength(50);
    const most = maxOverlap(spans);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
  }, 90_000);

  it("a slot is held while the instance sleeps on a durable timer, and freed when it fails", async () => {
    const sleeper = await createSequence(orch, "conc-sleeper", [
      { type: "step", id: "start", handler: "noop" },
      { type: "step", id: "nap", handler: "sleep", params: { duration_ms: 1_500 } },
      { type: "step", id: "boom", handler: "fail", params: { message: "planned" } },
      { type: "step", id: "end", handler: "noop" },
    ]);
    const quick = await createSequence(orch, "conc-quick", recorded);
    const first = await orch.rest("POST", "/instances", { sequence_id: sleeper, tenant_id: "acme", namespace: "conc-hold", concurrency_key: "k", max_concurrency: 1 });
    await eventually(async () => ((await orch.rest("GET", `/instances/${first.body.id}`)).body.state === "scheduled" ? true : undefined), 10_000, "the sleeper to park");
    const second = await orch.rest("POST", "/instances", { sequence_id: quick, tenant_id: "acme", namespace: "conc-hold", concurrency_key: "k", max_concurrency: 1 });
    // The second cannot start while the first holds the slot (parked on its 1.5 s timer).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await orch.rest("GET", `/instances/${second.body.id}`)).body.state).toBe("scheduled");
    expect((await orch.rest("GET", `/instances/${second.body.id}/outputs`)).body).toEqual([]);
    await eventually(async () => ((await orch.rest("GET", `/instances/${second.body.id}`)).body.state === "completed" ? true : undefined), 20_000, "the second to run");
    expect((await orch.rest("GET", `/instances/${first.body.id}`)).body.state).toBe("failed");
  }, 60_000);
});

describe("waiting for a slot", () => {
  it("waiters are parked, not polled: no fire time and no claims while the holder sleeps; a cancel still reaches them", async () => {
    const holder = await createSequence(orch, "conc-holder", [{ type: "step", id: "nap", handler: "sleep", params: { duration_ms: 2_500 } }]);
    const quick = await createSequence(orch, "conc-waiter", [{ type: "step", id: "run", handler: "noop" }]);
    const key = { concurrency_key: "parked", max_concurrency: 1 };
    const first = await orch.rest("POST", "/instances", { sequence_id: holder, tenant_id: "acme", namespace: "parked", ...key });
    await eventually(async () => ((await orch.rest("GET", `/instances/${first.body.id}`)).body.state === "scheduled" ? true : undefined), 10_000, "the holder to park");
    await flood("parked", quick, 10, key);
    // Every waiter was claimed once, found the key full and parked without a fire time.
    await eventually(async () => {
      const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where namespace = 'parked' and next_fire_at is null and state = 'scheduled'`;
      return n === 10 ? true : undefined;
    }, 10_000, "ten parked waiters");
    const claimedBefore = await counter("orch8_instances_claimed_total");
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await counter("orch8_instances_claimed_total")).toBe(claimedBefore);
    // A cancel does not wait for the slot.
    const [waiter] = await sql`select id from orchestration.instances where namespace = 'parked' and next_fire_at is null limit 1`;
    expect((await orch.rest("POST", `/instances/${waiter.id}/signals`, { signal_type: "cancel" })).status).toBe(201);
    await eventually(async () => ((await orch.rest("GET", `/instances/${waiter.id}`)).body.state === "cancelled" ? true : undefined), 10_000, "the waiter to be cancelled");
    expect((await orch.rest("GET", `/instances/${first.body.id}`)).body.state).toBe("scheduled");
    // The other signals a waiter takes in, and goes back to waiting without running a step.
    const [other] = await sql`select id from orchestration.instances where namespace = 'parked' and state = 'scheduled' and id <> ${first.body.id} limit 1`;
    await orch.rest("POST", `/instances/${other.id}/signals`, { signal_type: "update_context", payload: { note: "hi" } });
    await eventually(async () => {
      const got = (await orch.rest("GET", `/instances/${other.id}`)).body;
      return got.context.data?.note === "hi" && got.state === "scheduled" && got.next_fire_at === null ? true : undefined;
    }, 10_000, "the signal to be taken in");
    expect((await orch.rest("GET", `/instances/${other.id}/outputs`)).body).toEqual([]);
    // When the holder ends, the remaining nine run, one at a time, each woken by the previous one's end
    // (well before the periodic repair sweep, every 15 s, could have done it).
    const holderDone = await eventually(async () => {
      const got = (await orch.rest("GET", `/instances/${first.body.id}`)).body;
      return got.state === "completed" ? Date.parse(got.updated_at) : undefined;
    }, 20_000, "the holder to finish");
    await allIn("parked", 10, "completed", 30_000);
    const [{ last }] = await sql`select max(updated_at) as last from orchestration.instances where namespace = 'parked'`;
    expect(new Date(last).getTime() - holderDone).toBeLessThan(10_000);
    const [{ cancelled }] = await sql`select count(*)::int as cancelled from orchestration.instances where namespace = 'parked' and state = 'cancelled'`;
    expect(cancelled).toBe(1);
    const [{ waiters }] = await sql`select count(*)::int as waiters from orchestration.concurrency_waiters`;
    expect(waiters).toBe(0);
  }, 60_000);
});

describe("rate limits", () => {
  it("REST: PUT creates or replaces, GET reads and lists, DELETE removes; bad bodies are 400", async () => {
    const put = await orch.rest("PUT", "/rate-limits/api:crm", { max_count: 10, window: "1s" });
    expect(put).toEqual({
      status: 200,
      body: { tenant_id: "acme", key: "api:crm", max_count: 10, window: "1s", window_ms: 1000, created_at: expect.any(String), updated_at: expect.any(String) },
    });
    expect((await orch.rest("PUT", "/rate-limits/api:crm", { max_count: 3, window: "1m" })).body).toMatchObject({ max_count: 3, window: "1m", window_ms: 60_000 });
    expect((await orch.rest("GET", "/rate-limits/api:crm")).body).toMatchObject({ key: "api:crm", max_count: 3, window: "1m" });
    await orch.rest("PUT", "/rate-limits/api:a", { max_count: 1, window: "500ms" });
    expect((await orch.rest("GET", "/rate-limits")).body.map((l: any) => l.key)).toEqual(expect.arrayContaining(["api:a", "api:crm"]));
    expect((await orch.rest("GET", "/rate-limits?limit=1")).body).toHaveLength(1);
    expect((await orch.rest("PUT", "/rate-limits/x", { max_count: 0, window: "1s" })).status).toBe(400);
    expect((await orch.rest("PUT", "/rate-limits/x", { max_count: 1, window: "soon" })).status).toBe(400);
    expect((await orch.rest("PUT", "/rate-limits/x", { window: "1s" })).status).toBe(400);
    // Another tenant sees nothing and cannot name ours.
    expect((await orch.rest("GET", "/rate-limits/api:crm", undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("GET", "/rate-limits", undefined, { as: "globex" })).body).toEqual([]);
    // Its tenant "acme" is another Orch8 tenant than ours of the same name: empty.
    expect((await orch.rest("GET", "/rate-limits?tenant_id=acme", undefined, { as: "globex" })).body).toEqual([]);
    expect((await orch.rest("GET", "/rate-limits", undefined, { as: null })).status).toBe(401);
    expect(await orch.rest("DELETE", "/rate-limits/api:a")).toEqual({ status: 204, body: undefined });
    expect((await orch.rest("GET", "/rate-limits/api:a")).status).toBe(404);
    expect((await orch.rest("DELETE", "/rate-limits/api:a")).status).toBe(404);
  });

  it("gRPC RateLimitService: Set, Get, List (paginated), Delete", async () => {
    const client = await orch.client(RateLimitService);
    const set = await client.set({ key: "grpc:k", maxCount: 7, window: "2s" });
    expect(set).toMatchObject({ tenantId: "acme", key: "grpc:k", maxCount: 7, window: "2s", windowMs: 2000n });
    expect(await client.get({ key: "grpc:k" })).toMatchObject({ maxCount: 7 });
    await client.set({ key: "grpc:l", maxCount: 1, window: "1h" });
    const page = await client.list({ limit: 1, offset: 0 });
    expect(page.results).toHaveLength(1);
    expect(page.totalCount).toBeGreaterThanOrEqual(2);
    await client.delete({ key: "grpc:k" });
    const missing = await client.get({ key: "grpc:k" }).catch((err) => err);
    expect(missing).toBeInstanceOf(ConnectError);
    expect((missing as ConnectError).message).toMatch(/not found/);
    const bad = await client.set({ key: "grpc:m", maxCount: 1, window: "" }).catch((err) => err);
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("max 5 per 1s: 20 instances all complete, no 1-second window runs more than 5, the deferrals are counted", async () => {
    await orch.rest("PUT", "/rate-limits/send:email", { max_count: 5, window: "1s" });
    const sequence = await createSequence(orch, "rate-limited", [
      { type: "step", id: "prepare", handler: "noop" },
      // The key may be a template: this one resolves to the limited "send:email".
      { type: "step", id: "send", handler: "noop", rate_limit_key: "send:{{ context.data.channel }}" },
    ]);
    const exceededBefore = await counter("orch8_rate_limits_exceeded_total");
    // Start just after a second boundary, so the first executions are not at the edge of a window.
    await new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 20));
    await flood("rate", sequence, 20, { context: { data: { channel: "email" } } });
    await allIn("rate", 20, "completed", 60_000);
    const sends = await sql<{ at: Date; attempt: number }[]>`
      select o.created_at as at, o.attempt from orchestration.block_outputs o join orchestration.instances i on i.id = o.instance_id
      where i.namespace = 'rate' and o.block_id = 'send'`;
    expect(sends).toHaveLength(20);
    // The deferrals consumed no attempt (the step has no retry policy: a consumed attempt would have failed it).
    expect(sends.every((s) => s.attempt === 0)).toBe(true);
    const perSecond = new Map<number, number>();
    for (const { at } of sends) perSecond.set(Math.floor(at.getTime() / 1000), (perSecond.get(Math.floor(at.getTime() / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(5);
    expect(perSecond.size).toBeGreaterThanOrEqual(4);
    expect(await counter("orch8_rate_limits_exceeded_total")).toBeGreaterThan(exceededBefore);
  }, 90_000);

  it("a key without a configured limit is unlimited", async () => {
    const sequence = await createSequence(orch, "rate-unlimited", [{ type: "step", id: "send", handler: "noop", rate_limit_key: "nobody:configured:this" }]);
    const before = await counter("orch8_rate_limits_exceeded_total");
    await flood("unlimited", sequence, 30, {});
    await allIn("unlimited", 30);
    expect(await counter("orch8_rate_limits_exceeded_total")).toBe(before);
  }, 60_000);
});

async function counter(name: string): Promise<number> {
  const text = (await orch.rest("GET", "/metrics", undefined, { as: null })).body as string;
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}
