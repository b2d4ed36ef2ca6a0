import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, outputsOf, startOrchestration, waitForState, type TestOrchestration } from "./support";

// Engine features beyond seed 002 (services/orchestration/README.md): outgoing webhooks, the SSE
// stream of an instance, its execution tree and the approvals inbox — against a real engine,
// Postgres and local HTTP receivers.

let orch: TestOrchestration;

const step = (id: string, handler: string, params: Record<string, unknown> = {}) => ({ type: "step", id, handler, params });

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A webhook receiver: `answer(n)` is the status of the n-th request (1-based) to a path. */
async function startReceiver(answer: (path: string, n: number) => number): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const path = req.url ?? "/";
    received.push({ path, headers: req.headers, raw, body: JSON.parse(raw) });
    res.writeHead(answer(path, received.filter((r) => r.path === path).length)).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startInstance(sequenceId: string, data: Record<string, unknown> = {}): Promise<string> {
  const res = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default", context: { data } });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function metric(name: string): Promise<number> {
  const text = (await orch.rest("GET", "/metrics", undefined, { as: null })).body as string;
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(" ").at(-1)) : Number.NaN;
}

beforeAll(async () => {
  orch = await startOrchestration();
});

afterAll(async () => {
  await orch?.close();
});

describe("outgoing webhooks", () => {
  it("delivers instance events durably: retried with backoff, signed, and counted", async () => {
    // /flaky answers 503 twice, then 204; /gone always 404 (permanent).
    const receiver = await startReceiver((path, n) => (path === "/flaky" ? (n <= 2 ? 503 : 204) : 404));
    try {
      const created = await orch.rest("POST", "/webhooks/subscriptions", { url: `${receiver.url}/flaky`, event_types: ["instance.completed"], secret: "s3cr3t-signing-key" });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ tenant_id: "acme", url: `${receiver.url}/flaky`, event_types: ["instance.completed"], enabled: true, signed: true });
      expect(JSON.stringify(created.body)).not.toContain("s3cr3t");
      const gone = await orch.rest("POST", "/webhooks/subscriptions", { url: `${receiver.url}/gone`, event_types: ["instance.completed", "instance.failed"] });
      expect(gone.status).toBe(201);

      const sequenceId = await createSequence(orch, "webhook-source", [step("hello", "noop")]);
      const instanceId = await startInstance(sequenceId);
      await waitForState(orch, instanceId, ["completed"]);

      const delivered = await eventually(async () => {
        const ok = receiver.received.filter((r) => r.path === "/flaky");
        return ok.length >= 3 ? ok : undefined;
      }, 20_000, "the third attempt at /flaky");
      const body = delivered[2].body;
      expect(body).toEqual({
        event_type: "instance.completed",
        instance_id: instanceId,
        timestamp: expect.any(String),
        data: { tenant_id: "acme", namespace: "default", sequence_id: sequenceId, state: "completed", previous_state: "running" },
      });
      // One delivery id across the retries; every attempt signed with the secret over the exact body.
      expect(new Set(delivered.map((r) => r.headers["x-orch8-delivery-id"])).size).toBe(1);
      for (const r of delivered) expect(r.headers["x-orch8-signature"]).toBe(`sha256=${createHmac("sha256", "s3cr3t-signing-key").update(r.raw).digest("hex")}`);
      expect(delivered[0].headers["x-orch8-event"]).toBe("instance.completed");

      const deliveries = await eventually(async () => {
        const res = await orch.rest("GET", `/webhooks/subscriptions/${created.body.id}/deliveries`);
        return res.body[0]?.status === "delivered" ? res.body : undefined;
      });
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]).toMatchObject({ event_type: "instance.completed", instance_id: instanceId, attempts: 3, last_status_code: 204, last_error: null });
      const failed = await eventually(async () => {
        const res = await orch.rest("GET", `/webhooks/subscriptions/${gone.body.id}/deliveries?status=failed`);
        return res.body.length === 1 ? res.body : undefined;
      });
      expect(failed[0]).toMatchObject({ status: "failed", attempts: 1, last_status_code: 404, last_error: "HTTP 404" });
      expect(await metric("orch8_webhooks_sent_total")).toBe(1);
      expect(await metric("orch8_webhooks_failed_total")).toBe(1);
      // A failed delivery is sent again on request (a fresh series of attempts); a pending one cannot be.
      const again = await orch.rest("POST", `/webhooks/subscriptions/${gone.body.id}/deliveries/${failed[0].id}/redeliver`);
      expect(again.body).toMatchObject({ id: failed[0].id, status: "pending", attempts: 0 });
      await eventually(async () => (receiver.received.filter((r) => r.path === "/gone").length === 2 ? true : undefined), 10_000, "the redelivery");
      await eventually(async () => ((await metric("orch8_webhooks_failed_total")) === 2 ? true : undefined), 10_000, "the redelivery to fail");
      expect((await orch.rest("POST", `/webhooks/subscriptions/${gone.body.id}/deliveries/00000000-0000-4000-8000-000000000000/redeliver`)).status).toBe(404);
      // No other event type reached the receiver (the filter): one instance, one completion.
      expect(receiver.received.every((r) => r.body.event_type === "instance.completed")).toBe(true);

      // Listing, reading and changing subscriptions; secrets never come back.
      const listed = await orch.rest("GET", "/webhooks/subscriptions?limit=1");
      expect(listed.status).toBe(200);
      expect(listed.body.map((s: any) => s.id)).toEqual([created.body.id]);
      const patched = await orch.rest("PATCH", `/webhooks/subscriptions/${created.body.id}`, { enabled: false, secret: null });
      expect(patched.body).toMatchObject({ enabled: false, signed: false });
      expect((await orch.rest("DELETE", `/webhooks/subscriptions/${gone.body.id}`)).status).toBe(204);
      expect((await orch.rest("GET", `/webhooks/subscriptions/${gone.body.id}`)).status).toBe(404);
      // Another domain sees none of them.
      expect((await orch.rest("GET", `/webhooks/subscriptions/${created.body.id}`, undefined, { as: "globex" })).status).toBe(404);
      expect((await orch.rest("GET", "/webhooks/subscriptions", undefined, { as: "globex" })).body).toEqual([]);
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it("refuses bad subscriptions with 400 naming the field", async () => {
    const bad = async (body: unknown) => orch.rest("POST", "/webhooks/subscriptions", body);
    expect(await bad({})).toEqual({ status: 400, body: { error: expect.stringContaining("url") } });
    expect(await bad({ url: "ftp://example.com/x" })).toEqual({ status: 400, body: { error: expect.stringContaining("url") } });
    expect(await bad({ url: "http://10.1.2.3/hook" })).toEqual({ status: 400, body: { error: expect.stringContaining("url") } });
    expect(await bad({ url: "https://example.com/hook", event_types: ["instance.completed", "instance.exploded"] })).toEqual({
      status: 400,
      body: { error: expect.stringContaining("event_types[1]") },
    });
    expect(await bad({ url: "https://example.com/hook", secret: 42 })).toEqual({ status: 400, body: { error: expect.stringContaining("secret") } });
    expect((await orch.rest("GET", "/webhooks/subscriptions?limit=5000")).status).toBe(400);
    expect((await orch.rest("GET", "/webhooks/subscriptions/not-a-uuid/deliveries")).status).toBe(404);
  });
});

/** Reads an SSE response until `stop` says so (or the stream ends); the parsed events and comments. */
async function readEvents(res: Response, stop: (events: { event: string; data: any }[], comments: string[]) => boolean) {
  const events: { event: string; data: any }[] = [];
  const comments: string[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(":")) comments.push(block.slice(1).trim());
      else {
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1];
        events.push({ event, data: data === undefined ? undefined : JSON.parse(data) });
      }
    }
    if (stop(events, comments)) {
      await reader.cancel();
      break;
    }
  }
  return { events, comments };
}

describe("GET /instances/{id}/stream", () => {
  it("streams state and output events, then done when the instance ends", async () => {
    const sequenceId = await createSequence(orch, "streamed", [step("first", "log", { message: "one" }), step("nap", "sleep", { duration_ms: 600 }), step("last", "noop")]);
    const instanceId = await startInstance(sequenceId);
    const res = await fetch(`${orch.restUrl}/instances/${instanceId}/stream?poll_ms=100`, { headers: { authorization: `Bearer ${await orch.token()}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const { events } = await readEvents(res, () => false); // until the server ends it
    expect(events[0]).toEqual({ event: "state", data: { instance_id: instanceId, state: expect.any(String) } });
    expect(events.filter((e) => e.event === "output").map((e) => e.data.block_id)).toEqual(["first", "nap", "last"]);
    expect(events.find((e) => e.event === "output")!.data).toMatchObject({ instance_id: instanceId, block_id: "first", output: { message: "one" } });
    expect(events.filter((e) => e.event === "state").at(-1)!.data.state).toBe("completed");
    expect(events.at(-1)).toEqual({ event: "done", data: { state: "completed" } });
  }, 30_000);

  it("sends keep-alive comments while nothing happens and stops when the client leaves", async () => {
    const sequenceId = await createSequence(orch, "stream-waits", [step("review", "human_review", { prompt: "ok?" })]);
    const instanceId = await startInstance(sequenceId);
    await waitForState(orch, instanceId, ["waiting"]);
    const abort = new AbortController();
    const res = await fetch(`${orch.restUrl}/instances/${instanceId}/stream?poll_ms=200&heartbeat_ms=1000`, { headers: { authorization: `Bearer ${await orch.token()}` }, signal: abort.signal });
    const { events, comments } = await readEvents(res, (_, c) => c.length >= 2);
    abort.abort();
    expect(events).toEqual([{ event: "state", data: { instance_id: instanceId, state: "waiting" } }]);
    expect(comments.slice(0, 2)).toEqual(["keepalive", "keepalive"]);
  }, 30_000);

  it("answers 404 for an unknown or foreign instance, 400 for a bad poll_ms, 401 without a token", async () => {
    const sequenceId = await createSequence(orch, "stream-404", [step("a", "noop")]);
    const instanceId = await startInstance(sequenceId);
    expect(await orch.rest("GET", "/instances/00000000-0000-4000-8000-000000000000/stream")).toEqual({ status: 404, body: { error: "instance not found" } });
    expect((await orch.rest("GET", `/instances/${instanceId}/stream`, undefined, { as: "globex" })).status).toBe(404);
    expect(await orch.rest("GET", `/instances/${instanceId}/stream?poll_ms=fast`)).toEqual({ status: 400, body: { error: expect.stringContaining("poll_ms") } });
    expect((await orch.rest("GET", `/instances/${instanceId}/stream`, undefined, { as: null })).status).toBe(401);
  });
});

describe("GET /instances/{id}/tree", () => {
  it("returns the nodes that ran, with block types, states, parents and children", async () => {
    const sequenceId = await createSequence(orch, "tree", [
      { type: "parallel", id: "fan", branches: [[step("left", "noop")], [step("right", "noop")]] },
      { type: "router", id: "pick", routes: [{ condition: "plan == pro", blocks: [step("pro", "noop")] }], default: [step("free", "noop")] },
      step("wait", "human_review", { prompt: "go?" }),
    ]);
    const instanceId = await startInstance(sequenceId, { plan: "pro" });
    await waitForState(orch, instanceId, ["waiting"]);
    const res = await orch.rest("GET", `/instances/${instanceId}/tree`);
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.map((n: any) => [n.id, n]));
    expect(res.body.map((n: any) => n.id)).toEqual(["fan", "left", "right", "pick", "pro", "wait"]);
    expect(byId.fan).toMatchObject({ instance_id: instanceId, block_id: "fan", block_type: "parallel", parent_id: null, state: "completed", children: ["left", "right"] });
    expect(byId.right).toMatchObject({ block_type: "step", parent_id: "fan", branch_index: 1, state: "completed", attempt: 0 });
    expect(byId.pick).toMatchObject({ block_type: "router", children: ["pro"] });
    expect(byId.pro).toMatchObject({ parent_id: "pick", branch_index: 0, state: "completed" });
    expect(byId.wait).toMatchObject({ block_type: "step", state: "waiting", parent_id: null });
    expect(byId.free).toBeUndefined();
    expect((await orch.rest("GET", `/instances/${instanceId}/tree`, undefined, { as: "globex" })).status).toBe(404);
  });
});

describe("approvals inbox", () => {
  it("lists pending human_review steps and answers them with the signal the step waits for", async () => {
    const sequenceId = await createSequence(orch, "needs-review", [step("review", "human_review", { prompt: "Ship {{ context.data.release }}?", timeout_ms: 3_600_000 }), step("after", "noop")]);
    const approveMe = await startInstance(sequenceId, { release: "v1" });
    const rejectMe = await startInstance(sequenceId, { release: "v2" });
    await waitForState(orch, approveMe, ["waiting"]);
    await waitForState(orch, rejectMe, ["waiting"]);

    const inbox = await orch.rest("GET", "/approvals?namespace=default");
    expect(inbox.status).toBe(200);
    const mine = inbox.body.items.filter((i: any) => [approveMe, rejectMe].includes(i.instance_id));
    expect(mine).toHaveLength(2);
    expect(mine.find((i: any) => i.instance_id === approveMe)).toMatchObject({
      tenant_id: "acme",
      namespace: "default",
      sequence_id: sequenceId,
      sequence_name: "needs-review",
      block_id: "review",
      prompt: "Ship v1?",
      timeout_seconds: 3600,
      waiting_since: expect.any(String),
      deadline: expect.any(String),
    });
    expect(inbox.body.total).toBe(inbox.body.items.length);
    const firstPage = await orch.rest("GET", "/approvals?limit=1");
    expect(firstPage.body.items).toHaveLength(1);
    expect(firstPage.body.total).toBe(inbox.body.total);
    expect((await orch.rest("GET", "/approvals", undefined, { as: "globex" })).body).toEqual({ items: [], total: 0 });

    const approved = await orch.rest("POST", `/approvals/${approveMe}/review/approve`, { comments: "looks good" });
    expect(approved).toEqual({ status: 200, body: { signal_id: expect.any(String), approved: true, block_id: "review", instance_id: approveMe } });
    expect((await orch.rest("POST", `/approvals/${rejectMe}/review/reject`, { reviewer: "bob" })).status).toBe(200);
    await waitForState(orch, approveMe, ["completed"]);
    await waitForState(orch, rejectMe, ["completed"]);
    expect((await outputsOf(orch, approveMe)).review).toEqual({ approved: true, reviewer: "admin", comments: "looks good" });
    expect((await outputsOf(orch, rejectMe)).review).toEqual({ approved: false, reviewer: "bob", comments: null });

    const after = await orch.rest("GET", "/approvals");
    expect(after.body.items.filter((i: any) => [approveMe, rejectMe].includes(i.instance_id))).toEqual([]);
    // Answered already (409), not a step waiting for review (409), a foreign instance (404), bad input (400).
    expect((await orch.rest("POST", `/approvals/${approveMe}/review/approve`, {})).status).toBe(409);
    expect((await orch.rest("POST", `/approvals/${approveMe}/after/approve`, {})).status).toBe(409);
    const foreign = await startInstance(sequenceId, { release: "v3" });
    await waitForState(orch, foreign, ["waiting"]);
    expect((await orch.rest("POST", `/approvals/${foreign}/review/approve`, {}, { as: "globex" })).status).toBe(404);
    expect(await orch.rest("POST", `/approvals/${foreign}/review/approve`, { comments: 7 })).toEqual({ status: 400, body: { error: expect.stringContaining("comments") } });
    expect((await orch.rest("GET", "/approvals?offset=-1")).status).toBe(400);
  }, 30_000);
});
