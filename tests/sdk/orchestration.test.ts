// The SDK's orchestration managers against the running orchestration service, with a ready token
// (the token-only mode: no login, no identity URL needed).
import { TaskInstance_State } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { APIError, Client, ConflictError, NotFoundError, ValidationError } from "@cloudforet/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrchestration, type TestOrchestration } from "../orchestration/support";
import { rejection } from "./support";

let orch: TestOrchestration;
let client: Client;

beforeAll(async () => {
  orch = await startOrchestration();
  client = new Client({ token: await orch.token(), urls: { orchestration: orch.service.url } });
}, 120_000);

afterAll(async () => {
  await orch?.close();
});

describe("orchestration managers", () => {
  it("sequences: create, get, getByName; invalid and duplicate definitions map to the error classes", async () => {
    const id = await client.orchestration.sequences.create({ namespace: "default", name: "sdk-seq", version: 1, blocks: [{ type: "step", id: "a", handler: "noop" }] });
    expect((await client.orchestration.sequences.get(id)).name).toBe("sdk-seq");
    expect((await client.orchestration.sequences.getByName({ namespace: "default", name: "sdk-seq" })).id).toBe(id);
    const invalid = await rejection(client.orchestration.sequences.create({ namespace: "default", name: "bad", blocks: [{ type: "nope", id: "x" }] }));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid.details).toMatchObject({ parameter: "blocks[0].type" });
    expect(await rejection(client.orchestration.sequences.create({ namespace: "default", name: "sdk-seq", version: 1, blocks: [{ type: "step", id: "a", handler: "noop" }] }))).toBeInstanceOf(ConflictError);
    expect(await rejection(client.orchestration.sequences.get("00000000-0000-4000-8000-000000000000"))).toBeInstanceOf(NotFoundError);
  });

  it("instances: create, wait to completion, outputs, list pages", async () => {
    const sequenceId = await client.orchestration.sequences.create({ namespace: "default", name: "sdk-run", blocks: [{ type: "step", id: "hello", handler: "log", params: { message: "hi {{ context.data.who }}" } }] });
    const instance = await client.orchestration.instances.create({ sequenceId, namespace: "default", context: { data: { who: "sdk" } } });
    const final = await instance.wait({ timeoutMs: 15_000 });
    expect(final.state).toBe(TaskInstance_State.COMPLETED);
    expect(instance.done).toBe(true);
    expect(await instance.outputs()).toMatchObject([{ blockId: "hello", output: { message: "hi sdk" } }]);
    for (let i = 0; i < 4; i++) await client.orchestration.instances.create({ sequenceId, namespace: "default", context: { data: { who: String(i) } } });
    const listed = await client.orchestration.instances.list({ sequenceId }, { pageSize: 2 }).all();
    expect(new Set(listed.map((x) => x.id)).size).toBe(5);
  });

  it("an instance waiting for nobody can be cancelled through its handle", async () => {
    const sequenceId = await client.orchestration.sequences.create({ namespace: "default", name: "sdk-parked", blocks: [{ type: "step", id: "w", handler: "nobody_polls" }] });
    const instance = await client.orchestration.instances.create({ sequenceId, namespace: "default" });
    await instance.cancel();
    expect(instance.data.state).toBe(TaskInstance_State.CANCELLED);
    expect(await rejection(client.orchestration.instances.get("00000000-0000-4000-8000-000000000000"))).toBeInstanceOf(NotFoundError);
  });
});
