import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { decodeError } from "@cloudforet/errors";
import { Collector, CollectorCollectResponse_State } from "@cloudforet/proto/cloudforet/inventory/plugin/v1/collector_pb";
import { Health, HealthCheckResponse_ServingStatus } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { ServerReflection } from "@cloudforet/proto/grpc/reflection/v1/reflection_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticateFailure, cloudService, cloudServiceType, definePlugin, itemFailure, servePlugin, type ServedPlugin } from "./index";

const plugin = definePlugin({
  init: (options) => ({ supported_resource_type: ["cloud_service.CloudService"], echo: options }),
  verify: (_options, secret) => {
    if (secret.password !== "right") throw authenticateFailure("Invalid credentials");
  },
  async *collect({ taskOptions }) {
    yield cloudServiceType({ key: "compute.Instance", provider: "test" });
    const count = Number(taskOptions.count ?? 3);
    for (let i = 0; i < count; i++) {
      yield cloudService({ cloud_service_type: "compute.Instance", cloud_service_name: `vm-${i}`, reference: { resource_id: `vm-${i}` }, data: { i } }, [["reference.resource_id"]]);
    }
    yield itemFailure("vm-x could not be read", { reference: { resource_id: "vm-x" } });
    if (taskOptions.explode) throw new Error("the provider went away");
  },
});

let served: ServedPlugin;
const transport = () => createGrpcTransport({ baseUrl: served.url });

beforeAll(async () => {
  served = await servePlugin(plugin, { host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await served?.close();
});

describe("servePlugin", () => {
  it("serves Init and Verify, reporting rejected credentials with their code", async () => {
    const client = createClient(Collector, transport());
    expect((await client.init({ options: { a: 1 } })).metadata).toEqual({ supported_resource_type: ["cloud_service.CloudService"], echo: { a: 1 } });
    await client.verify({ secretData: { password: "right" } });
    const err = await client.verify({ secretData: { password: "wrong" } }).catch((e) => decodeError(e));
    expect(err).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", message: "Invalid credentials" });
  });

  it("streams what collect yields, then ends with the plugin's error when it throws", async () => {
    const client = createClient(Collector, transport());
    const items = [];
    for await (const item of client.collect({ taskOptions: { count: 2 } })) items.push(item);
    expect(items.map((i) => [i.resourceType, i.state])).toEqual([
      ["cloud_service.CloudServiceType", CollectorCollectResponse_State.SUCCESS],
      ["cloud_service.CloudService", CollectorCollectResponse_State.SUCCESS],
      ["cloud_service.CloudService", CollectorCollectResponse_State.SUCCESS],
      ["cloud_service.CloudService", CollectorCollectResponse_State.FAILURE],
    ]);
    expect(items[1].matchRules).toEqual({ "1": ["reference.resource_id"] });
    expect(items[3].message).toBe("vm-x could not be read");
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const item of client.collect({ taskOptions: { count: 1, explode: true } })) seen.push(item.resourceType);
    })().catch((e) => decodeError(e));
    expect(seen).toHaveLength(3);
    expect(failure).toMatchObject({ code: "ERROR_UNKNOWN", message: "the provider went away" });
  });

  it("answers health checks and lists its services by reflection", async () => {
    const health = createClient(Health, transport());
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: "cloudforet.inventory.plugin.v1.Collector" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const reflection = createClient(ServerReflection, transport());
    const answers = [];
    for await (const answer of reflection.serverReflectionInfo(
      (async function* () {
        yield { messageRequest: { case: "listServices" as const, value: "" } };
        yield { messageRequest: { case: "fileContainingSymbol" as const, value: "cloudforet.inventory.plugin.v1.Collector" } };
      })(),
    )) {
      answers.push(answer);
    }
    const listed = answers[0].messageResponse.case === "listServicesResponse" ? answers[0].messageResponse.value.service.map((s) => s.name) : [];
    expect(listed).toEqual(["cloudforet.inventory.plugin.v1.Collector", "grpc.health.v1.Health"]);
    expect(answers[1].messageResponse.case).toBe("fileDescriptorResponse");
  });
});
