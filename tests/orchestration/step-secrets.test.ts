// Credentials written into step params (services/orchestration/src/sequences/step-secrets.ts):
// sealed at rest, "***" in every answer, the real value on the wire when the step runs.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, runInstance, startOrchestration, type TestOrchestration } from "./support";

const SECRET = "Bearer sk-live-4f1c9a77d2";

let orch: TestOrchestration;
let sql: postgres.Sql;
let server: Server;
let url: string;
const received: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  orch = await startOrchestration();
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
  server = createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await new Promise((resolve) => server?.close(resolve));
  await orch?.close();
});

const callStep = (path: string) => ({
  type: "step",
  id: "call",
  handler: "http_request",
  params: {
    url: `${url}${path}`,
    method: "POST",
    headers: { Authorization: SECRET, "X-Api-Key": "key-8d7e6f", "X-Trace": "trace-1", "X-Token": "{{ context.data.token }}" },
    body: { password: "hunter2-x9", note: "plain" },
  },
});

describe("secrets in step params", () => {
  it("are redacted on GET over REST and gRPC, sealed in the database, and sent for real when the step runs", async () => {
    const id = await createSequence(orch, "with-secret", [callStep("/secured")]);

    const rest = await orch.rest("GET", `/sequences/${id}`);
    expect(rest.status).toBe(200);
    expect(rest.body.blocks[0].params).toEqual({
      url: `${url}/secured`,
      method: "POST",
      headers: { Authorization: "***", "X-Api-Key": "***", "X-Trace": "trace-1", "X-Token": "{{ context.data.token }}" },
      body: { password: "***", note: "plain" },
    });
    const byName = await orch.rest("GET", "/sequences/by-name?tenant_id=acme&namespace=default&name=with-secret");
    expect(byName.body.blocks[0].params.headers.Authorization).toBe("***");

    const client = await orch.client(SequenceService);
    const viaGrpc = await client.get({ id });
    expect((viaGrpc.blocks[0] as any).params.headers).toEqual({ Authorization: "***", "X-Api-Key": "***", "X-Trace": "trace-1", "X-Token": "{{ context.data.token }}" });
    const viaGrpcByName = await client.getByName({ tenantId: "acme", namespace: "default", name: "with-secret" });
    expect((viaGrpcByName.blocks[0] as any).params.body.password).toBe("***");

    const [row] = await sql`select blocks::text as blocks from orchestration.sequences where id = ${id}`;
    expect(row.blocks).not.toContain("sk-live-4f1c9a77d2");
    expect(row.blocks).not.toContain("key-8d7e6f");
    expect(row.blocks).not.toContain("hunter2-x9");
    expect(row.blocks).toContain("sealed:v1:");
    expect(row.blocks).toContain("{{ context.data.token }}");

    const done = await runInstance(orch, id, { context: { data: { token: "tok-from-context" } } });
    expect(done.state).toBe("completed");
    const headers = received.at(-1)!;
    expect(headers).toMatchObject({ authorization: SECRET, "x-api-key": "key-8d7e6f", "x-trace": "trace-1", "x-token": "tok-from-context" });
  });

  it("a definition stored in plaintext before sealing still runs, and is redacted on GET", async () => {
    const id = randomUUID();
    const blocks = [callStep("/legacy")];
    await sql`insert into orchestration.sequences (id, domain_id, tenant_id, namespace, name, version, blocks, created_at)
              values (${id}, 'acme', 'acme', 'default', 'legacy', 1, ${sql.json(blocks as any)}, now())`;

    expect((await orch.rest("GET", `/sequences/${id}`)).body.blocks[0].params.headers).toMatchObject({ Authorization: "***", "X-Api-Key": "***", "X-Trace": "trace-1" });
    const done = await runInstance(orch, id, { context: { data: { token: "t" } } });
    expect(done.state).toBe("completed");
    expect(received.at(-1)).toMatchObject({ authorization: SECRET, "x-api-key": "key-8d7e6f" });
  });
});
