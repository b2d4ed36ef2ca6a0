// Scale-out faults of the event followers: a replica must know identity's revocations before it
// serves, and a replica cut off from NATS longer than its consumers' inactivity threshold (while
// the broker stays up, so the broker deletes those consumers) must get them back when it returns:
// its revocation list and its job watches keep up. One replica reaches NATS through a TCP proxy
// this file stops and starts; NATS_INACTIVE_THRESHOLD_MS makes the broker drop consumers in ~1.5 s.
import { costModule } from "@cloudforet/cost";
import { createEvent, DEFAULT_STREAM, JetStreamBus } from "@cloudforet/events";
import { identityModule } from "@cloudforet/identity";
import { inventoryModule } from "@cloudforet/inventory";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { RoleBinding_Role, User_State, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService, JobServiceWatchResponse_Kind } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { createLogger, startService, type RunningService } from "@cloudforet/runtime";
import { connectTestNats, createTestDatabase, startTcpProxy, TEST_OUTBOUND_ALLOW, waitFor, type TcpProxy, type TestDatabase } from "@cloudforet/testing";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, bearer } from "../support/platform";
import { PrivateNats } from "./support/private-nats";

/** How long the broker keeps a consumer nobody pulls from (production: 10 min / 60 s). */
const INACTIVE_THRESHOLD_MS = 1_500;
const WORKSPACE = "ws-partition";

let database: TestDatabase | undefined;
let nats: PrivateNats | undefined;
let proxy: TcpProxy | undefined;
let identity: RunningService | undefined;
let publisher: JetStreamBus | undefined;
let observer: Awaited<ReturnType<typeof connectTestNats>> | undefined;
let jsm: JetStreamManager;
let adminToken: string;
const started: RunningService[] = [];

/** A replica's environment; `viaProxy` puts it behind the proxy this file cuts. */
const env = (service: string, extra: Record<string, string> = {}, viaProxy = false) => ({
  DATABASE_URL: database!.url,
  NATS_URL: viaProxy ? proxy!.url("nats") : nats!.url,
  NATS_INACTIVE_THRESHOLD_MS: String(INACTIVE_THRESHOLD_MS),
  [`${service.toUpperCase().replace(/-/g, "_")}_ADDR`]: "127.0.0.1:0",
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
  CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
  IDENTITY_SECRET_KEYS: `test:${Buffer.alloc(32, 1).toString("base64")}`,
  INVENTORY_CREDENTIALS_KEYS: `test:${Buffer.alloc(32, 4).toString("base64")}`,
  CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
  ...(identity ? { IDENTITY_URL: identity.url } : {}),
  ...extra,
});

async function startReplica(module: typeof costModule, viaProxy = false, extra: Record<string, string> = {}): Promise<RunningService> {
  const replica = await startService(module, env(module.name, extra, viaProxy));
  started.push(replica);
  return replica;
}

const clientOf = <S extends DescService>(service: S, baseUrl: string, token: string): Client<S> =>
  createClient(service, createConnectTransport({ baseUrl, httpVersion: "2", interceptors: [bearer(token)] }));

/** "accepted" unless the replica refused the token; the refusal's code otherwise. */
async function authOutcome(replica: RunningService, token: string): Promise<string> {
  try {
    await clientOf(CostService, replica.url, token).list({});
    return "accepted";
  } catch (err) {
    const code = ConnectError.from(err).code;
    return code === Code.Unauthenticated || code === Code.Unavailable ? Code[code] : "accepted";
  }
}

async function userToken(userId: string): Promise<string> {
  await clientOf(UserService, identity!.url, adminToken).create({
    userId,
    password: ADMIN_PASSWORD,
    name: userId,
    roleBindings: [{ role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: WORKSPACE }],
  });
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: identity!.url, httpVersion: "2" }));
  return (await auth.login({ domainId: "domain-default", userId, password: ADMIN_PASSWORD })).token;
}

/** The consumers on the services' stream whose names start with `prefix`. */
async function consumersNamed(prefix: string): Promise<string[]> {
  const names: string[] = [];
  // The listing can hand back null for a consumer that went away while it was being read (other test
  // files' consumers come and go on the shared stream).
  for await (const info of jsm.consumers.list(DEFAULT_STREAM)) if (info?.name.startsWith(prefix)) names.push(info.name);
  return names;
}

beforeAll(async () => {
  database = await createTestDatabase("faults_partition");
  nats = await PrivateNats.start();
  proxy = await startTcpProxy({ host: "127.0.0.1", port: nats.port });
  identity = await startService(identityModule, env("identity"));
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: identity.url, httpVersion: "2" }));
  adminToken = (await auth.login({ domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD })).token;
  await clientOf(WorkspaceService, identity.url, adminToken).create({ workspaceId: WORKSPACE, name: WORKSPACE });
  publisher = await JetStreamBus.connect({ servers: nats.url, logger: createLogger("test", "silent") });
  observer = await connectTestNats(nats.url);
  jsm = await jetstreamManager(observer);
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.close().catch(() => {})));
  await identity?.close().catch(() => {});
  await publisher?.close().catch(() => {});
  await observer?.close().catch(() => {});
  await proxy?.stop();
  await nats?.destroy();
  await database?.drop().catch(() => {});
}, 60_000);

describe("a replica's view of identity's revocations", () => {
  it("a replica started after 1,000 revocations refuses a revoked token on its first request", async () => {
    const revoked = await userToken("partition-user-replay");
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          publisher!.publish(
            createEvent({
              subject: "cloudforet.identity.user.disabled",
              domainId: "domain-default",
              data: { domain_id: "domain-default", user_id: `someone-${batch * 100 + i}`, at: new Date().toISOString() },
            }),
          ),
        ),
      );
    }
    // The one that matters comes last: a replica that serves mid-replay has not applied it yet.
    await publisher!.publish(
      createEvent({
        subject: "cloudforet.identity.user.disabled",
        domainId: "domain-default",
        data: { domain_id: "domain-default", user_id: "partition-user-replay", at: new Date().toISOString() },
      }),
    );

    const replica = await startReplica(costModule);
    expect(await authOutcome(replica, revoked)).toBe("Unauthenticated");
    expect(await authOutcome(replica, adminToken)).toBe("accepted");
    await replica.close();
  }, 60_000);

  it("a replica cut off from NATS until the broker dropped its consumer learns a revocation made meanwhile", async () => {
    const steady = await startReplica(costModule);
    const partitioned = await startReplica(costModule, true);
    const token = await userToken("partition-user-cut");
    expect(await authOutcome(steady, token)).toBe("accepted");
    expect(await authOutcome(partitioned, token)).toBe("accepted");

    await proxy!.stop();
    try {
      // Only the connected replica's revocation consumer is left (earlier replicas' expire too).
      await waitFor(async () => (await consumersNamed("auth-revocations-cost-")).length === 1, 30_000, "the broker to drop the cut-off replica's consumer");
      await clientOf(UserService, identity!.url, adminToken).update({ userId: "partition-user-cut", state: User_State.DISABLED });
      await expect.poll(() => authOutcome(steady, token), { timeout: 10_000, interval: 200 }).toBe("Unauthenticated");
    } finally {
      await proxy!.start();
    }
    await expect.poll(() => authOutcome(partitioned, token), { timeout: 20_000, interval: 200 }).toBe("Unauthenticated");
    expect(await authOutcome(steady, token)).toBe("Unauthenticated");
    expect(await consumersNamed("auth-revocations-cost-")).toHaveLength(2);
    expect(await authOutcome(partitioned, adminToken)).toBe("accepted");
  }, 90_000);
});

describe("JobService.Watch on a replica whose watch consumer the broker dropped", () => {
  it("still delivers the job's later progress and final state", async () => {
    const inventory = await startReplica(inventoryModule, true, { CLOUD_SERVICE_URL: "http://127.0.0.1:9" });
    const secret = await clientOf(SecretService, identity!.url, adminToken).create({ name: "partition-creds", workspaceId: WORKSPACE, data: { nutanix_host: "prism.local" } });
    await clientOf(ServiceAccountService, identity!.url, adminToken).create({
      serviceAccountId: "sa-partition",
      name: "sa-partition",
      provider: "nutanix",
      workspaceId: WORKSPACE,
      secretId: secret.secretId,
    });
    await clientOf(CollectorService, inventory.url, adminToken).create({ collectorId: "collector-partition", name: "Partition", provider: "nutanix", workspaceId: WORKSPACE });
    const jobs = clientOf(JobService, inventory.url, adminToken);
    const tasks = clientOf(JobTaskService, inventory.url, adminToken);
    const job = await jobs.create({ collectorId: "collector-partition", serviceAccountIds: ["sa-partition"] });

    const seen: { kind: JobServiceWatchResponse_Kind; status?: Job_Status }[] = [];
    const watching = (async () => {
      for await (const message of jobs.watch({ jobId: job.jobId })) seen.push({ kind: message.kind, status: message.job?.status });
    })();
    await expect.poll(() => seen.length).toBe(1);

    await proxy!.stop();
    try {
      await waitFor(async () => (await consumersNamed("inventory-job-watch-")).length === 0, 30_000, "the broker to drop the watch consumer");
    } finally {
      await proxy!.start();
    }

    const task = await tasks.create({ jobId: job.jobId, serviceAccountId: "sa-partition" });
    await tasks.updateProgress({ jobTaskId: task.jobTaskId, status: JobTask_Status.IN_PROGRESS, progress: 50 });
    await tasks.complete({ jobTaskId: task.jobTaskId, status: JobTask_Status.FINISHED });

    await expect.poll(() => seen.at(-1)?.status, { timeout: 20_000, interval: 200 }).toBe(Job_Status.FINISHED);
    await watching;
    expect(seen[0]).toEqual({ kind: JobServiceWatchResponse_Kind.SNAPSHOT, status: Job_Status.CREATED });
  }, 90_000);
});
