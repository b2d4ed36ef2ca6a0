import { TriggerService } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, outputsOf, runInstance, startHttpServer, startOrchestration, waitForState, type TestHttpServer, type TestOrchestration } from "./support";

// One test per built-in handler, end to end, with templates in their params and their failure paths.

let orch: TestOrchestration;
let http: TestHttpServer;

const step = (id: string, handler: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ type: "step", id, handler, params, ...extra });

beforeAll(async () => {
  http = await startHttpServer(({ method, path, body }) => {
    if (path.startsWith("/v1/chat/completions")) {
      const messages = (body as { messages: { content: string }[] }).messages;
      return { body: { choices: [{ message: { role: "assistant", content: `echo: ${messages.at(-1)!.content}` } }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } } };
    }
    if (path.startsWith("/tools/add")) {
      const { a, b } = body as { a: number; b: number };
      return { body: { sum: a + b } };
    }
    if (path.startsWith("/missing")) return { status: 404, body: { error: "nope" } };
    return { status: 200, body: { method, path, received: body ?? null } };
  });
  orch = await startOrchestration({ ORCHESTRATION_LLM_URL: `${http.url}/v1`, ORCHESTRATION_TOOL_URL: http.url });
});

afterAll(async () => {
  await orch?.close();
  await http?.close();
});

async function run(name: string, blocks: unknown[], fields: Record<string, unknown> = {}, until?: string[]) {
  const id = await createSequence(orch, name, blocks);
  const instance = await runInstance(orch, id, fields, until);
  return { instance, outputs: await outputsOf(orch, instance.id) };
}

describe("basic handlers", () => {
  it("noop returns {}", async () => {
    expect((await run("noop", [step("n", "noop")])).outputs).toEqual({ n: {} });
  });

  it("log returns its (templated) message", async () => {
    const { outputs } = await run("log", [step("l", "log", { message: "Hello {{ context.data.name | stranger }} from {{ instance.tenant_id }}", level: "warn" }), step("d", "log")], {
      context: { data: { name: "John" } },
    });
    expect(outputs).toEqual({ l: { message: "Hello John from acme" }, d: { message: "no message" } });
  });

  it("sleep waits duration_ms (default 100); a long sleep parks the instance on a durable timer", async () => {
    const short = await run("sleep", [step("s", "sleep", { duration_ms: "{{ context.data.ms }}" }), step("d", "sleep")], { context: { data: { ms: 30 } } });
    expect(short.outputs).toEqual({ s: { slept_ms: 30 }, d: { slept_ms: 100 } });
    const id = await createSequence(orch, "long-sleep", [step("nap", "sleep", { duration_ms: 1_500 })]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: id, tenant_id: "acme", namespace: "default" });
    // Parked: scheduled again, at the step, with the wake-up time as its next fire time.
    const parked = await eventually(async () => {
      const got = (await orch.rest("GET", `/instances/${body.id}`)).body;
      return got.state === "scheduled" && got.context.runtime.current_step === "nap" ? got : undefined;
    });
    expect(Date.parse(parked.next_fire_at)).toBeGreaterThan(Date.now() + 500);
    expect((await waitForState(orch, body.id, ["completed"], 5_000)).state).toBe("completed");
  });

  it("fail fails the step with its message; retryable: true lets the retry policy act", async () => {
    const { instance } = await run("fail", [step("f", "fail", { message: "boom {{ context.data.n }}" })], { context: { data: { n: 7 } } });
    expect(instance).toMatchObject({ state: "failed", context: { runtime: { error: "boom 7", failed_block: "f" } } });
    const retried = await run("fail-retry", [step("f", "fail", { retryable: true }, { retry: { max_attempts: 3, initial_backoff: "10ms" } })]);
    expect(retried.instance.context.runtime).toMatchObject({ error: "forced failure", attempt: 2 });
  });
});

describe("http_request", () => {
  it("makes a real request with method, templated url and JSON body", async () => {
    const { outputs } = await run(
      "http",
      [
        step("get", "http_request", { url: `${http.url}/users/{{ context.data.user_id }}` }),
        step("post", "http_request", { url: `${http.url}/events`, method: "POST", body: { user: "{{ context.data.user_id }}", prev: "{{ outputs.get.status }}" }, timeout_ms: 2_000 }),
      ],
      { context: { data: { user_id: 42 } } },
    );
    expect(outputs.get.status).toBe(200);
    expect(JSON.parse(outputs.get.body)).toEqual({ method: "GET", path: "/users/42", received: null });
    expect(JSON.parse(outputs.post.body)).toEqual({ method: "POST", path: "/events", received: { user: 42, prev: 200 } });
  });

  it("a 4xx is a permanent failure; a missing url too", async () => {
    const { instance } = await run("http-404", [step("h", "http_request", { url: `${http.url}/missing` }, { retry: { max_attempts: 3, initial_backoff: "10ms" } })]);
    expect(instance.context.runtime).toMatchObject({ error: `http_request: HTTP 404 from ${http.url}/missing`, attempt: 0 });
    expect((await run("http-no-url", [step("h", "http_request", {})])).instance.context.runtime.error).toBe("http_request: `url` is required");
  });
});

describe("instance state handlers", () => {
  it("set_state, get_state, merge_state and delete_state work on instance-scoped state", async () => {
    const { outputs } = await run("state", [
      step("set", "set_state", { key: "color", value: "{{ context.data.color }}" }),
      step("merge", "merge_state", { data: { size: "L", qty: 2 } }),
      step("get_color", "get_state", { key: "color" }),
      step("get_qty", "get_state", { key: "qty" }),
      step("del", "delete_state", { key: "color" }),
      step("get_gone", "get_state", { key: "color" }),
      step("echo", "log", { message: "{{ state.size }}/{{ outputs.get_color.value }}" }),
    ], { context: { data: { color: "blue" } } });
    expect(outputs).toEqual({ set: {}, merge: {}, get_color: { value: "blue" }, get_qty: { value: 2 }, del: {}, get_gone: { value: null }, echo: { message: "L/blue" } });
  });

  it("transform evaluates an expression and writes it to context.data.<target>", async () => {
    const { instance, outputs } = await run("transform", [
      step("total", "transform", { expression: "price * qty + {{ context.data.shipping }}", target: "total" }),
      step("label", "transform", { expression: "upper(name) + ': ' + total" }),
    ], { context: { data: { price: 10, qty: 3, shipping: 5, name: "order" } } });
    expect(outputs).toEqual({ total: { result: 35 }, label: { result: "ORDER: 35" } });
    expect(instance.context.data.total).toBe(35);
    const bad = await run("transform-bad", [step("t", "transform", { expression: "1 +" })]);
    expect(bad.instance.context.runtime.error).toMatch(/^transform: /);
  });

  it("assert passes silently or fails with its message", async () => {
    expect((await run("assert-ok", [step("a", "assert", { condition: "plan == pro" })], { context: { data: { plan: "pro" } } })).outputs).toEqual({ a: {} });
    const failed = await run("assert-bad", [step("a", "assert", { condition: "plan == pro", message: "plan is {{ context.data.plan }}" })], { context: { data: { plan: "free" } } });
    expect(failed.instance).toMatchObject({ state: "failed", context: { runtime: { error: "plan is free" } } });
  });

  it("self_modify injects blocks that run right after it", async () => {
    const { outputs } = await run("self-modify", [
      step("grow", "self_modify", { blocks: [step("injected_1", "log", { message: "one" }), { type: "parallel", id: "injected_par", branches: [[step("injected_2", "noop")]] }] }),
      step("last", "noop"),
    ]);
    expect(outputs).toEqual({ grow: { injected: 2 }, injected_1: { message: "one" }, injected_2: {}, last: {} });
    const clash = await run("self-modify-bad", [step("grow", "self_modify", { blocks: [step("grow", "noop")] })]);
    expect(clash.instance.context.runtime.error).toMatch(/self_modify: block "grow": duplicate block id/);
  });
});

describe("workflow coordination handlers", () => {
  it("emit_event spawns a child via a trigger, with parent dedupe by default and tenant dedupe on request", async () => {
    const child = await createSequence(orch, "order-child", [step("handle", "log", { message: "order {{ context.data.order_id }}" })]);
    const triggers = await orch.client(TriggerService);
    await triggers.create({ slug: "on-order-created", namespace: "default", sequenceId: child });
    const parent = await createSequence(orch, "order-parent", [
      step("fan_out_order", "emit_event", { trigger_slug: "on-order-created", data: { order_id: "{{ context.data.order }}", total_cents: 4200 }, meta: { source: "spoofed", team: "sales" }, dedupe_key: "{{ context.data.order }}" }),
      step("again", "emit_event", { trigger_slug: "on-order-created", data: {}, dedupe_key: "{{ context.data.order }}" }),
      step("tenant_wide", "emit_event", { trigger_slug: "on-order-created", data: { order_id: "t" }, dedupe_key: "global-{{ context.data.order }}", dedupe_scope: "tenant" }),
    ]);
    const p1 = await runInstance(orch, parent, { context: { data: { order: "ord_123" } } });
    const out1 = await outputsOf(orch, p1.id);
    expect(out1.fan_out_order).toEqual({ instance_id: expect.any(String), sequence_name: "order-child", deduped: false });
    expect(out1.again).toEqual({ ...out1.fan_out_order, deduped: true });
    expect(out1.tenant_wide.deduped).toBe(false);
    const childInstance = await waitForState(orch, out1.fan_out_order.instance_id, ["completed"]);
    expect(childInstance.context.data).toEqual({ order_id: "ord_123", total_cents: 4200 });
    expect(childInstance.metadata).toEqual({ source: "trigger:on-order-created", parent_instance_id: p1.id, team: "sales" });
    // Another parent may reuse the parent-scoped key, but not the tenant-scoped one.
    const p2 = await runInstance(orch, parent, { context: { data: { order: "ord_123" } } });
    const out2 = await outputsOf(orch, p2.id);
    expect(out2.fan_out_order.deduped).toBe(false);
    expect(out2.fan_out_order.instance_id).not.toBe(out1.fan_out_order.instance_id);
    expect(out2.tenant_wide).toEqual({ ...out1.tenant_wide, deduped: true });
  });

  it("emit_event fails permanently for an unknown trigger, an empty dedupe_key or a bad scope", async () => {
    const unknown = await run("emit-unknown", [step("e", "emit_event", { trigger_slug: "no-such-trigger" })]);
    expect(unknown.instance.context.runtime.error).toBe("emit_event: trigger no-such-trigger not found");
    expect((await run("emit-empty", [step("e", "emit_event", { trigger_slug: "on-order-created", dedupe_key: "" })])).instance.context.runtime.error).toMatch(/dedupe_key/);
    expect((await run("emit-scope", [step("e", "emit_event", { trigger_slug: "on-order-created", dedupe_key: "k", dedupe_scope: "global" })])).instance.context.runtime.error).toMatch(/dedupe_scope/);
  });

  it("send_signal signals another instance of the tenant; query_instance reads it", async () => {
    const waiter = await createSequence(orch, "waiter", [step("review", "human_review", { prompt: "approve?" })]);
    const { body: target } = await orch.rest("POST", "/instances", { sequence_id: waiter, tenant_id: "acme", namespace: "default" });
    await waitForState(orch, target.id, ["waiting"]);
    const { outputs } = await run("signaller", [
      step("peek", "query_instance", { instance_id: "{{ context.data.target }}" }),
      step("approve", "send_signal", { instance_id: "{{ context.data.target }}", signal_type: { custom: "human_review" }, payload: { approved: true, reviewer: "alice" } }),
      step("ghost", "query_instance", { instance_id: "00000000-0000-4000-8000-000000000000" }),
    ], { context: { data: { target: target.id } } });
    expect(outputs.peek).toMatchObject({ found: true, state: "waiting", context: { runtime: { current_step: "review" } }, created_at: expect.any(String), updated_at: expect.any(String) });
    expect(outputs.approve).toEqual({ signal_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(outputs.ghost).toEqual({ found: false });
    await waitForState(orch, target.id, ["completed"]);
    expect(await outputsOf(orch, target.id)).toEqual({ review: { approved: true, reviewer: "alice", comments: null } });
  });

  it("send_signal and query_instance refuse another tenant's instance and terminal targets (permanent)", async () => {
    const foreignSeq = (await orch.rest("POST", "/sequences", { tenant_id: "globex", namespace: "default", name: "foreign", blocks: [step("w", "human_review")] }, { as: "globex" })).body.id;
    const foreign = (await orch.rest("POST", "/instances", { sequence_id: foreignSeq, tenant_id: "globex", namespace: "default" }, { as: "globex" })).body.id;
    const query = await run("cross-query", [step("q", "query_instance", { instance_id: foreign })]);
    expect(query.instance.context.runtime.error).toBe(`query_instance: instance ${foreign} belongs to another tenant`);
    const signal = await run("cross-signal", [step("s", "send_signal", { instance_id: foreign, signal_type: "cancel" })]);
    expect(signal.instance.context.runtime.error).toBe(`send_signal: instance ${foreign} belongs to another tenant`);
    const done = await run("finished-target", [step("n", "noop")]);
    const terminal = await run("terminal-signal", [step("s", "send_signal", { instance_id: done.instance.id, signal_type: "pause" })]);
    expect(terminal.instance.context.runtime.error).toBe(`send_signal: instance ${done.instance.id} is completed`);
    expect((await run("bad-signal", [step("s", "send_signal", { instance_id: done.instance.id, signal_type: "explode" })])).instance.context.runtime.error).toMatch(/signal_type/);
  });
});

describe("human_review", () => {
  it("waits for the custom:human_review signal and returns the review", async () => {
    const id = await createSequence(orch, "review", [step("check", "human_review", { prompt: "Is {{ context.data.doc }} fine?" }), step("after", "noop")]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: id, tenant_id: "acme", namespace: "default", context: { data: { doc: "the draft" } } });
    const waiting = await waitForState(orch, body.id, ["waiting"]);
    expect(waiting.next_fire_at).toBeNull();
    await orch.rest("POST", `/instances/${body.id}/signals`, { signal_type: "custom:human_review", payload: { approved: false, reviewer: "bob", comments: "typos", block_id: "check" } });
    await waitForState(orch, body.id, ["completed"]);
    expect(await outputsOf(orch, body.id)).toEqual({ check: { approved: false, reviewer: "bob", comments: "typos" }, after: {} });
  });

  it("after timeout_ms it goes to the escalation_handler, or fails without one", async () => {
    const escalated = await run("review-escalate", [step("check", "human_review", { timeout_ms: 200, escalation_handler: "noop" })]);
    expect(escalated.outputs).toEqual({ check: {} });
    const timedOut = await run("review-timeout", [step("check", "human_review", { timeout_ms: 200 })]);
    expect(timedOut.instance.context.runtime.error).toBe("human_review timed out after 200 ms");
  });
});

describe("llm_call and tool_call", () => {
  it("llm_call posts to the OpenAI-compatible /chat/completions and returns content and usage", async () => {
    const { outputs } = await run("llm", [step("ask", "llm_call", { provider: "openai", model: "gpt-x", messages: [{ role: "user", content: "hi {{ context.data.name }}" }], temperature: 0.2, max_tokens: 10 })], {
      context: { data: { name: "Ann" } },
    });
    expect(outputs.ask).toEqual({ content: "echo: hi Ann", usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    const request = http.requests.find((r) => r.path === "/v1/chat/completions")!;
    expect(request.body).toEqual({ model: "gpt-x", messages: [{ role: "user", content: "hi Ann" }], temperature: 0.2, max_tokens: 10 });
  });

  it("tool_call posts the arguments to the tool and returns its answer", async () => {
    const { outputs } = await run("tool", [step("calc", "tool_call", { tool_name: "add", arguments: { a: 2, b: "{{ context.data.b }}" } })], { context: { data: { b: 40 } } });
    expect(outputs.calc).toEqual({ sum: 42 });
  });
});

describe("external workers", () => {
  it("an unknown handler becomes a worker task; its completion is the step's output", async () => {
    const id = await createSequence(orch, "worker", [step("send_welcome", "email_send", { template: "welcome", to: "{{ context.data.email }}" }, { timeout: "30s" }), step("after", "log", { message: "{{ outputs.send_welcome.email_id }}" })]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: id, tenant_id: "acme", namespace: "default", context: { data: { email: "john@acme.com", name: "John" } } });
    await waitForState(orch, body.id, ["waiting"]);
    const poll = await orch.rest("POST", "/workers/tasks/poll", { handler_name: "email_send", worker_id: "node-worker-42", limit: 10 });
    expect(poll.status).toBe(200);
    expect(poll.body).toEqual([
      {
        id: expect.any(String),
        instance_id: body.id,
        block_id: "send_welcome",
        handler_name: "email_send",
        params: { template: "welcome", to: "john@acme.com" },
        context: { data: { email: "john@acme.com", name: "John" }, config: {} },
        attempt: 0,
        timeout_ms: 30000,
        state: "claimed",
        worker_id: "node-worker-42",
        claimed_at: expect.any(String),
        heartbeat_at: expect.any(String),
        completed_at: null,
        output: null,
        error_message: null,
        error_retryable: null,
        created_at: expect.any(String),
        claim_epoch: 1,
      },
    ]);
    expect((await orch.rest("POST", "/workers/tasks/poll", { handler_name: "email_send", worker_id: "other" })).body).toEqual([]);
    const task = poll.body[0].id;
    expect((await orch.rest("POST", `/workers/tasks/${task}/heartbeat`, { worker_id: "node-worker-42" })).status).toBe(200);
    expect((await orch.rest("POST", `/workers/tasks/${task}/complete`, { worker_id: "intruder", output: {} })).status).toBe(409);
    expect((await orch.rest("POST", `/workers/tasks/${task}/complete`, { worker_id: "node-worker-42", output: { email_id: "msg-abc123", delivered: true } })).status).toBe(200);
    await waitForState(orch, body.id, ["completed"]);
    expect(await outputsOf(orch, body.id)).toEqual({ send_welcome: { email_id: "msg-abc123", delivered: true }, after: { message: "msg-abc123" } });
    expect((await orch.rest("POST", `/workers/tasks/${task}/complete`, { worker_id: "node-worker-42", output: {} })).status).toBe(200);
  });

  it("a retryable worker failure is retried by the step's policy; a permanent one fails the instance", async () => {
    const id = await createSequence(orch, "worker-fail", [step("charge", "payment_charge", {}, { retry: { max_attempts: 2, initial_backoff: "10ms" } })]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: id, tenant_id: "acme", namespace: "default" });
    const claim = async () => eventually(async () => {
      const tasks = (await orch.rest("POST", "/workers/tasks/poll", { handler_name: "payment_charge", worker_id: "w1" })).body;
      return tasks.length > 0 ? tasks[0] : undefined;
    });
    const first = await claim();
    await orch.rest("POST", `/workers/tasks/${first.id}/fail`, { worker_id: "w1", message: "SMTP connection refused", retryable: true });
    const second = await claim();
    expect(second.attempt).toBe(1);
    await orch.rest("POST", `/workers/tasks/${second.id}/fail`, { worker_id: "w1", message: "card declined", retryable: false });
    const failed = await waitForState(orch, body.id, ["failed"]);
    expect(failed.context.runtime.error).toBe("card declined");
    expect((await orch.rest("GET", "/instances/dlq?namespace=default")).body.map((i: { id: string }) => i.id)).toContain(body.id);
  });

  it("a worker step that outlives its timeout fails (retryable) and its task is withdrawn", async () => {
    const id = await createSequence(orch, "worker-timeout", [step("slow", "slow_worker", {}, { timeout: "300ms" })]);
    const { body } = await orch.rest("POST", "/instances", { sequence_id: id, tenant_id: "acme", namespace: "default" });
    const failed = await waitForState(orch, body.id, ["failed"], 5_000);
    expect(failed.context.runtime.error).toMatch(/timed out after 300 ms waiting for a slow_worker worker/);
    expect((await orch.rest("POST", "/workers/tasks/poll", { handler_name: "slow_worker", worker_id: "late" })).body).toEqual([]);
  });
});
