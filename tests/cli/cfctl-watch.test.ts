// cfctl list --watch follows jobs through JobService.Watch, and stat --sum adds money exactly:
// spawned cfctl processes against the platform's real services.
import { spawn } from "node:child_process";
import { JobTask_Status } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { Client } from "@cloudforet/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "../support/platform";
import { createApiKeyUser, platformUrls } from "../sdk/support";
import { REPO_ROOT, runCfctl, serviceUrlEnv, startCliPlatform, type CfctlRun } from "./support";

let platform: TestPlatform;
let client: Client;
let env: Record<string, string>;

const ok = (run: CfctlRun) => {
  expect(run.stderr, "stderr of a successful run").toBe("");
  expect(run.code).toBe(0);
  return run.stdout;
};

beforeAll(async () => {
  platform = await startCliPlatform();
  const apiKey = await createApiKeyUser(platform, "watch-admin");
  client = new Client({ apiKey, userId: "watch-admin", urls: platformUrls(platform, ["identity", "inventory", "cost"]) });
  await client.identity.workspaces.create({ workspaceId: "ws-watch", name: "Watch" });
  await client.identity.projects.create({ projectId: "project-watch", name: "Watch project", workspaceId: "ws-watch" });
  env = { ...serviceUrlEnv(platform), CLOUDFORET_API_KEY: apiKey, CLOUDFORET_USER_ID: "watch-admin" };
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

describe("list --watch", () => {
  it("prints the running job, then each change as it happens, and ends when the job has ended", async () => {
    const secret = await client.secrets.set("watch-secret", { host: "h" }, { workspaceId: "ws-watch" });
    await client.identity.serviceAccounts.create({ serviceAccountId: "sa-watch", name: "sa-watch", provider: "nutanix", projectId: "project-watch", workspaceId: "ws-watch", secretId: secret.id });
    await client.inventory.collectors.create({ collectorId: "collector-watch", name: "Watch", provider: "nutanix", workspaceId: "ws-watch" });
    const job = await client.inventory.jobs.create({ collectorId: "collector-watch", name: "watched", serviceAccountIds: ["sa-watch"] });

    const child = spawn(process.execPath, ["packages/cli/bin/cfctl.mjs", "list", "jobs", "--filter", "collector_id=collector-watch", "--watch", "-o", "json"], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const lines = () => stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { job_id: string; status: string; created_count: number });
    const firstLine = new Promise<void>((resolve) =>
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        if (stdout.includes("\n")) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await firstLine;
    expect(lines()[0]).toMatchObject({ job_id: job.id, status: "CREATED" });

    const task = await client.inventory.jobTasks.create({ jobId: job.id, serviceAccountId: "sa-watch", secretId: secret.id, status: JobTask_Status.CREATED });
    await task.updateProgress({ status: JobTask_Status.IN_PROGRESS, progress: 50 });
    await task.complete({ status: JobTask_Status.FINISHED, createdCount: 3 });

    expect(await exited).toBe(0);
    expect(stderr).toBe("");
    const seen = lines();
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((l) => l.job_id === job.id)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ status: "FINISHED", created_count: 3 });
    // Only changes are printed: no two consecutive lines are the same.
    for (let i = 1; i < seen.length; i++) expect(JSON.stringify(seen[i])).not.toBe(JSON.stringify(seen[i - 1]));
  });

  it("--watch of a resource without a Watch RPC is a usage error", async () => {
    const run = await runCfctl(["list", "workspaces", "--watch"], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --watch needs a resource whose service streams changes: jobs, instances/);
  });
});

describe("stat --sum of money", () => {
  it("adds costs as exact decimals, not binary doubles", async () => {
    const source = await client.cost.dataSources.create({ dataSourceId: "ds-watch-money", name: "money", provider: "test", workspaceId: "ws-watch" });
    const rows = [
      { date: "2026-01-01", cost: 0.1, currency: "USD", resourceId: "vm-1" },
      { date: "2026-01-02", cost: 0.2, currency: "USD", resourceId: "vm-1" },
      { date: "2026-01-03", cost: 0.3, currency: "USD", resourceId: "vm-1" },
      { date: "2026-01-01", cost: 10.1, currency: "EUR", resourceId: "vm-2" },
      { date: "2026-01-02", cost: 20.2, currency: "EUR", resourceId: "vm-2" },
    ];
    const result = await client.cost.costs.batchCreate(source.id, rows);
    expect(result.failures ?? []).toEqual([]);
    // As doubles these are 0.6000000000000001 and 30.299999999999997.
    expect(0.1 + 0.2 + 0.3).not.toBe(0.6);
    const stat = ok(await runCfctl(["stat", "costs", "--group-by", "currency", "--sum", "cost", "--filter", "data_source_id=ds-watch-money", "-o", "json"], env));
    expect(JSON.parse(stat)).toEqual([
      { currency: "EUR", sum_cost: "30.3" },
      { currency: "USD", sum_cost: "0.6" },
    ]);
    const table = ok(await runCfctl(["stat", "costs", "--group-by", "currency", "--sum", "cost", "--filter", "data_source_id=ds-watch-money"], env));
    expect(table).toBe("CURRENCY  SUM_COST\nEUR       30.3\nUSD       0.6\n");
  });
});
