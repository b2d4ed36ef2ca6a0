// cfctl driven as a user drives it: spawned processes against a platform started in this
// process, a Prism simulator and the Nutanix plugin; the quick start's files applied as written.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ApiKey_State, ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { ADMIN_PASSWORD, type TestPlatform } from "../support/platform";
import { startPrismSimulator, type PrismSimulator } from "../support/prism-simulator";
import { REPO_ROOT, runCfctl, serviceUrlEnv, startBackground, startCliPlatform, tempConfigDir, type BackgroundProcess, type CfctlRun } from "./support";

const QUICKSTART = join(REPO_ROOT, "examples/quickstart");

let platform: TestPlatform;
/** The simulator of `pnpm nutanix:simulator` and the plugin of `pnpm --filter @cloudforet/collector-nutanix serve`, as processes. */
let simulatorProcess: BackgroundProcess;
let pluginProcess: BackgroundProcess;
/** The same (deterministic) inventory in this process, to know what the collection must find. */
let sim: PrismSimulator;
let pluginUrl: string;
let config: { path: string; cleanup: () => Promise<void> };
let env: Record<string, string>;
let expectedTotal: number;

const cfctl = (args: string[], input = "", extraEnv: Record<string, string> = {}) => runCfctl(args, { ...env, ...extraEnv }, input);
const ok = (run: CfctlRun) => {
  expect(run.stderr, `stderr of a successful run`).toBe("");
  expect(run.code).toBe(0);
  return run.stdout;
};
const noStack = (run: CfctlRun) => expect(run.stderr).not.toMatch(/^\s+at /m);

beforeAll(async () => {
  sim = await startPrismSimulator({ seed: 11, vms: 12 });
  expectedTotal = sim.subnets.length + sim.vms.length + sim.diskCount;
  [simulatorProcess, pluginProcess, platform] = await Promise.all([
    // package.json "nutanix:simulator" is `tsx tests/support/run-prism-simulator.ts`.
    startBackground(["--import", "tsx", "tests/support/run-prism-simulator.ts"], { PRISM_SIMULATOR_PORT: "0", PRISM_SIMULATOR_SEED: "11", PRISM_SIMULATOR_VMS: "12" }, /^export (PRISM_URL=.*)$/m),
    // The plugin package's "serve" script is `node --import tsx src/main.ts serve`.
    startBackground(["--import", "tsx", "src/main.ts", "serve"], { NUTANIX_PLUGIN_ADDR: "127.0.0.1:0", LOG_LEVEL: "info" }, /"url":"(http:[^"]+)"/, join(REPO_ROOT, "plugins/collector-nutanix")),
    startCliPlatform(),
  ]);
  pluginUrl = pluginProcess.match[1];
  // The exports the simulator prints, as a user would paste them.
  const exported = Object.fromEntries([...simulatorProcess.match[1].matchAll(/(\w+)=('([^']*)'|\S+)/g)].map((m) => [m[1], m[3] ?? m[2]]));
  config = await tempConfigDir();
  env = {
    ...serviceUrlEnv(platform),
    CFCTL_CONFIG: config.path,
    PRISM_URL: exported.PRISM_URL,
    PRISM_USERNAME: exported.PRISM_USERNAME,
    PRISM_PASSWORD: exported.PRISM_PASSWORD,
    NUTANIX_PLUGIN_URL: pluginUrl,
  };
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await pluginProcess?.stop();
  await simulatorProcess?.stop();
  await sim?.close();
  await config?.cleanup();
});

describe("usage", () => {
  it("--help lists the commands and exits 0; a command's --help its options", async () => {
    const [main, list] = await Promise.all([cfctl(["--help"]), cfctl(["list", "--help"])]);
    expect(ok(main)).toMatch(/Commands:\n {2}login[\s\S]*job +Follow a collection job/);
    expect(ok(list)).toMatch(/^Usage: cfctl list <resource>[\s\S]*cloud-services +cloud-service, cs/m);
  });

  it("mistakes on the command line exit 2 with the usage hint", async () => {
    const lines = [["frobnicate"], ["list"], ["list", "cs", "--bogus"], ["list", "no-such-thing"], ["list", "cs", "--limit", "ten"], ["stat", "cs"]];
    const runs = await Promise.all(lines.map((args) => cfctl(args)));
    for (const [i, args] of lines.entries()) {
      const run = runs[i];
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/^error: .+\nhint: cfctl (\w+ )?--help\n$/);
      expect(run.stdout).toBe("");
    }
  });
});

describe("login, whoami, errors", () => {
  it("a refused token prints the error code and a hint, exit 1, no stack trace", async () => {
    // Well formed, signed by nobody identity trusts: the service refuses it.
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const forged = `${part({ alg: "EdDSA", kid: "forged" })}.${part({ sub: "admin", did: "domain-default", typ: "access", exp: 4102444800 })}.${part({ sig: 1 })}`;
    const [refused, garbage] = await Promise.all([cfctl(["whoami"], "", { CLOUDFORET_TOKEN: forged }), cfctl(["list", "cs"], "", { CLOUDFORET_TOKEN: "not-a-token" })]);
    for (const run of [refused, garbage]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: ERROR_AUTHENTICATE_FAILURE: .+\nhint: run cfctl login/);
      noStack(run);
    }
  });

  it("an unreachable service: ERROR_SERVICE_UNAVAILABLE and a hint, nothing on stdout (the SDK's retry logs stay quiet)", async () => {
    const run = await cfctl(["list", "jobs"], "", { CLOUDFORET_TOKEN: "t", CLOUDFORET_INVENTORY_URL: "http://127.0.0.1:1", LOG_LEVEL: "debug" });
    expect(run).toMatchObject({ code: 1, stdout: "" });
    expect(run.stderr).toMatch(/^error: ERROR_SERVICE_UNAVAILABLE: .*ECONNREFUSED.*\nhint: cannot reach the service: is the platform running/);
  });

  it("before login, commands say so", async () => {
    const run = await cfctl(["list", "cs"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("error: ERROR_AUTHENTICATE_FAILURE: Not logged in\nhint: run cfctl login, or set CLOUDFORET_API_KEY and CLOUDFORET_USER_ID\n");
  });

  it("a wrong password is refused and nothing is saved", async () => {
    const run = await cfctl(["login", "--url", "http://127.0.0.1", "--user", "admin", "--password-stdin"], "wrong-password\n");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: ERROR_AUTHENTICATE_FAILURE: /);
    await expect(stat(config.path)).rejects.toThrow();
  });

  it("login with the password on stdin saves an API key (mode 0600, no password); whoami shows the admin", async () => {
    const out = ok(await cfctl(["login", "--url", "http://127.0.0.1", "--user", "admin", "--password-stdin"], `${ADMIN_PASSWORD}\n`));
    expect(out).toBe(`Logged in to http://127.0.0.1 as admin (domain domain-default); credentials saved in ${config.path}\n`);
    expect((await stat(config.path)).mode & 0o777).toBe(0o600);
    const saved = YAML.parse(await readFile(config.path, "utf8"));
    expect(saved).toMatchObject({ url: "http://127.0.0.1", domain_id: "domain-default", user_id: "admin", api_key: expect.stringMatching(/^cfk_/) });
    expect(JSON.stringify(saved)).not.toContain(ADMIN_PASSWORD);
    expect(ok(await cfctl(["whoami"]))).toMatch(/^user_id: +admin\nname: .*\ndomain_id: +domain-default\nroles: +DOMAIN_ADMIN\n/);
    expect(JSON.parse(ok(await cfctl(["whoami", "-o", "json"])))).toMatchObject({ user_id: "admin", domain_id: "domain-default", roles: ["DOMAIN_ADMIN"] });
  });
});

describe("the quick start", () => {
  it("the simulator prints its URL and credentials", () => {
    expect(simulatorProcess.output()).toMatch(/^Prism simulator listening on http:\/\/127\.0\.0\.1:\d+ \(2 clusters, 12 VMs, 3 subnets\)\nusername admin, password \S+\n/);
    expect(env.PRISM_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect([env.PRISM_USERNAME, env.PRISM_PASSWORD]).toEqual([sim.username, sim.password]);
  });

  it("apply creates the workspace, secret, account and collector, then finds them unchanged", async () => {
    const first = ok(await cfctl(["apply", "-f", QUICKSTART]));
    expect(first).toBe("workspace/ws-quickstart created\nsecret/nutanix-prism-creds created\nservice-account/sa-quickstart created\ncollector/nutanix created\n");
    const files = ["collector.yaml", "secret.yaml", "service-account.yaml", "workspace.yaml"].flatMap((f) => ["-f", join(QUICKSTART, f)]);
    expect(ok(await cfctl(["apply", ...files]))).toBe(
      "workspace/ws-quickstart unchanged\nsecret/nutanix-prism-creds unchanged\nservice-account/sa-quickstart unchanged\ncollector/nutanix unchanged\n",
    );
  });

  it("apply updates what changed, reads stdin, and refuses plaintext secrets", async () => {
    const changed = `kind: Collector
metadata: { name: nutanix, workspace_id: ws-quickstart }
spec:
  name: Nutanix
  provider: nutanix
  plugin_info: { endpoint: "${pluginUrl}", options: { page_size: 5 } }
`;
    expect(ok(await cfctl(["apply", "-f", "-"], changed))).toBe("collector/nutanix updated\n");
    expect(ok(await cfctl(["apply", "-f", "-"], changed))).toBe("collector/nutanix unchanged\n");
    const plaintext = "kind: Secret\nmetadata: { name: leaked, workspace_id: ws-quickstart }\nspec:\n  data:\n    nutanix_password: hunter2\n";
    const refused = await cfctl(["apply", "-f", "-"], plaintext);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "error: ERROR_INVALID_PARAMETER: stdin#1: Secret leaked: spec.data.nutanix_password is an inline plaintext value; secrets take values by reference only\nhint: write valueFrom: { env: NAME } or valueFrom: { file: path }\n",
    );
  });

  it("collect starts a job and job watch follows it to FINISHED (plain lines when not a terminal)", async () => {
    const jobId = ok(await cfctl(["collect", "nutanix", "--service-account", "sa-quickstart"])).trim();
    expect(jobId).toMatch(/^job-/);
    const watched = ok(await cfctl(["job", "watch", jobId]));
    const lines = watched.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(new RegExp(`^${jobId} (CREATED|IN_PROGRESS|FINISHED) \\d+% tasks \\d+/1 created=\\d+ updated=\\d+ failed=\\d+$`));
    expect(lines.at(-2)).toBe(`${jobId} FINISHED 100% tasks 1/1 created=${expectedTotal} updated=0 failed=0`);
    expect(lines.at(-1)).toBe(`job ${jobId} FINISHED: created ${expectedTotal}, updated 0, deleted 0, failed 0`);
  });

  it("list cs: json, yaml and table, with filters, sort and limit", async () => {
    const vms = JSON.parse(ok(await cfctl(["list", "cs", "--filter", "cloud_service_type=compute.Instance", "--sort", "name", "-o", "json"])));
    expect(vms).toHaveLength(sim.vms.length);
    const names = vms.map((v: { name: string }) => v.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(vms.map((v: { account: string }) => v.account))).toEqual(new Set(["sa-quickstart"]));
    const [all, lastThree, notNetwork, contains, table, documented] = await Promise.all([
      cfctl(["list", "cs", "-o", "json"]),
      cfctl(["list", "cloud-services", "--filter", "cloud_service_type=compute.Instance", "--sort", "-name", "--limit", "3", "-o", "yaml"]),
      cfctl(["list", "cs", "--filter", "cloud_service_type!=compute.Network", "--filter", "provider=nutanix", "-o", "json"]),
      cfctl(["list", "cs", "--filter", `name~${names[0].slice(1)}`, "--filter", "cloud_service_type=compute.Instance", "-o", "json"]),
      cfctl(["list", "cs", "--filter", "cloud_service_type=compute.Instance", "--sort", "name", "--limit", "4", "--columns", "name,state,provider"]),
      cfctl(["list", "cs", "--filter", "cloud_service_type=compute.Instance", "--sort", "name", "--limit", "10"]),
    ]);
    const quickStartRows = ok(documented).trimEnd().split("\n");
    expect(quickStartRows[0]).toMatch(/^CLOUD_SERVICE_ID +NAME +CLOUD_SERVICE_TYPE +CLOUD_SERVICE_GROUP +PROVIDER +ACCOUNT +STATE$/);
    expect(quickStartRows.slice(1).map((r) => r.split(/\s+/)[1])).toEqual(names.slice(0, 10));
    expect(JSON.parse(ok(all))).toHaveLength(expectedTotal);
    expect(YAML.parse(ok(lastThree)).map((v: { name: string }) => v.name)).toEqual([...names].reverse().slice(0, 3));
    expect(JSON.parse(ok(notNetwork))).toHaveLength(expectedTotal - sim.subnets.length);
    expect(JSON.parse(ok(contains)).map((v: { name: string }) => v.name)).toContain(names[0]);
    const rows = ok(table).trimEnd().split("\n");
    expect(rows[0]).toMatch(/^NAME +STATE +PROVIDER$/);
    expect(rows).toHaveLength(5);
    expect(rows[1]).toMatch(new RegExp(`^${names[0]} +\\S+ +nutanix$`));
    // Aligned: every row's second column starts where the header's does.
    const at = rows[0].indexOf("STATE");
    for (const row of rows.slice(1)) expect([row[at - 1], row[at] !== " "]).toEqual([" ", true]);
  });

  it("get shows one resource; secrets never show their value", async () => {
    const [[vm], [secret]] = (await Promise.all([cfctl(["list", "cs", "--limit", "1", "-o", "json"]), cfctl(["list", "secrets", "--filter", "name=nutanix-prism-creds", "-o", "json"])])).map((r) => JSON.parse(ok(r)));
    const [got, collector, shown, missing] = await Promise.all([
      cfctl(["get", "cs", vm.cloud_service_id, "-o", "json"]),
      cfctl(["get", "collector", "nutanix", "-o", "yaml"]),
      cfctl(["get", "secret", secret.secret_id, "-o", "yaml"]),
      cfctl(["get", "cs", "cloud-svc-missing"]),
    ]);
    expect(JSON.parse(ok(got))).toEqual(vm);
    expect(YAML.parse(ok(collector))).toMatchObject({ collector_id: "nutanix", provider: "nutanix", workspace_id: "ws-quickstart" });
    expect(ok(shown)).toContain("name: nutanix-prism-creds");
    expect(shown.stdout).not.toContain(sim.password);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: ERROR_NOT_FOUND: .+\nhint: cfctl list <resource> shows what exists\n$/);
  });

  it("stat groups and counts on the server (cloud services) or in cfctl (others)", async () => {
    const [byTypeRun, tableRun, jobsRun, sumsRun] = await Promise.all([
      cfctl(["stat", "cs", "--group-by", "cloud_service_type", "--count", "-o", "json"]),
      cfctl(["stat", "cs", "--group-by", "cloud_service_type,state"]),
      cfctl(["stat", "jobs", "--group-by", "status,collector_id", "-o", "json"]),
      cfctl(["stat", "jobs", "--group-by", "collector_id", "--sum", "created_count", "-o", "json"]),
    ]);
    const counts = Object.fromEntries(JSON.parse(ok(byTypeRun)).map((r: { cloud_service_type: string; count: number }) => [r.cloud_service_type, r.count]));
    expect(counts).toEqual({ "compute.Instance": sim.vms.length, "compute.Disk": sim.diskCount, "compute.Network": sim.subnets.length });
    expect(ok(tableRun).split("\n")[0]).toMatch(/^CLOUD_SERVICE_TYPE +STATE +COUNT$/);
    expect(JSON.parse(ok(jobsRun))).toEqual([{ status: "FINISHED", collector_id: "nutanix", count: 1 }]);
    expect(JSON.parse(ok(sumsRun))).toEqual([{ collector_id: "nutanix", sum_created_count: expectedTotal }]);
  });

  it("the finished job raised a Collection Complete notification", async () => {
    let titles: string[] = [];
    for (let i = 0; i < 40 && !titles.some((t) => t.startsWith("Collection Complete")); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      titles = JSON.parse(ok(await cfctl(["list", "notifications", "-o", "json"]))).map((n: { title: string }) => n.title);
    }
    expect(titles.some((t) => t.startsWith("Collection Complete"))).toBe(true);
    expect(ok(await cfctl(["list", "notifications"]))).toMatch(/^NOTIFICATION_ID +TITLE +SEVERITY/);
  });
});

describe("failures and the rest", () => {
  it("job watch exits 1 with the job's error when the collection fails", async () => {
    const docs = `kind: Secret
metadata: { name: wrong-creds, workspace_id: ws-quickstart }
spec:
  data:
    nutanix_host: { valueFrom: { env: PRISM_URL } }
    nutanix_username: { valueFrom: { env: PRISM_USERNAME } }
    nutanix_password: { valueFrom: { env: WRONG_PASSWORD } }
---
kind: ServiceAccount
metadata: { name: sa-wrong, workspace_id: ws-quickstart }
spec: { provider: nutanix, secret: wrong-creds }
`;
    expect(ok(await cfctl(["apply", "-f", "-"], docs, { WRONG_PASSWORD: "nope" }))).toBe("secret/wrong-creds created\nservice-account/sa-wrong created\n");
    const jobId = ok(await cfctl(["collect", "nutanix", "--service-account", "sa-wrong"])).trim();
    const run = await cfctl(["job", "watch", jobId]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`${jobId} FAILURE `));
    expect(run.stderr).toMatch(new RegExp(`^error: ERROR_AUTHENTICATE_FAILURE: job ${jobId} ended FAILURE: Invalid Prism credentials.*\\nhint: cfctl list job-tasks --filter job_id=${jobId} -o yaml`));
    noStack(run);
  });

  it("delete removes a resource", async () => {
    ok(await cfctl(["apply", "-f", "-"], "kind: Workspace\nmetadata: { name: ws-scratch }\n"));
    expect(ok(await cfctl(["delete", "workspace", "ws-scratch"]))).toBe("workspace/ws-scratch deleted\n");
    expect((await cfctl(["get", "ws", "ws-scratch"])).code).toBe(1);
  });

  it("a sequence applies by name (a change is a new version) and instance watch follows a run", async () => {
    const sequence = (message: string) => `kind: Sequence
metadata: { name: cli-hello, namespace: default }
spec:
  blocks:
    - { type: step, id: hello, handler: log, params: { message: "${message}" } }
`;
    expect(ok(await cfctl(["apply", "-f", "-"], sequence("hi")))).toBe("sequence/cli-hello created\n");
    expect(ok(await cfctl(["apply", "-f", "-"], sequence("hi")))).toBe("sequence/cli-hello unchanged\n");
    expect(ok(await cfctl(["apply", "-f", "-"], sequence("hello")))).toBe("sequence/cli-hello updated (version 2)\n");
    const seq = JSON.parse(ok(await cfctl(["get", "sequence", "default/cli-hello", "-o", "json"])));
    expect(seq).toMatchObject({ name: "cli-hello", version: 2 });
    const client = platform.client((await import("@cloudforet/proto/cloudforet/orchestration/v1/instance_pb")).InstanceService);
    const { id } = await client.create({ sequenceId: seq.id, namespace: "default" });
    const watched = ok(await cfctl(["instance", "watch", id]));
    expect(watched.trimEnd().split("\n").at(-1)).toMatch(new RegExp(`^${id} (\\w+ -> )?COMPLETED$`));
    const listed = JSON.parse(ok(await cfctl(["list", "instances", "--filter", `sequence_id=${seq.id}`, "-o", "json"])));
    expect(listed.map((i: { id: string }) => i.id)).toEqual([id]);
  });

  it("cron schedules and triggers apply by name, list, and delete", async () => {
    const docs = (cron: string) => `kind: CronSchedule
metadata: { name: cli-weekdays, namespace: default }
spec: { sequence: cli-hello, cron_expr: "${cron}", timezone: UTC, enabled: false }
---
kind: Trigger
metadata: { name: cli-hook, namespace: default }
spec: { sequence: cli-hello, trigger_type: WEBHOOK }
`;
    expect(ok(await cfctl(["apply", "-f", "-"], docs("0 9 * * MON-FRI *")))).toBe("cron-schedule/cli-weekdays created\ntrigger/cli-hook created\n");
    expect(ok(await cfctl(["apply", "-f", "-"], docs("0 9 * * MON-FRI *")))).toBe("cron-schedule/cli-weekdays unchanged\ntrigger/cli-hook unchanged\n");
    expect(ok(await cfctl(["apply", "-f", "-"], docs("0 18 * * MON-FRI *")))).toBe("cron-schedule/cli-weekdays updated\ntrigger/cli-hook unchanged\n");
    const [crons, triggers, recurrent] = await Promise.all([
      cfctl(["list", "cron", "--filter", "enabled=false", "-o", "json"]),
      cfctl(["list", "triggers", "-o", "yaml"]),
      cfctl(["list", "recurrent-requests", "-o", "json"]),
    ]);
    expect(JSON.parse(ok(crons))).toMatchObject([{ cron_expr: "0 18 * * MON-FRI *", enabled: false, metadata: { name: "cli-weekdays" } }]);
    expect(YAML.parse(ok(triggers))).toMatchObject([{ slug: "cli-hook", sequence_name: "cli-hello", trigger_type: "WEBHOOK", enabled: true }]);
    expect(JSON.parse(ok(recurrent))).toEqual([]);
    expect(ok(await cfctl(["delete", "trigger", "cli-hook"]))).toBe("trigger/cli-hook deleted\n");
  });

  it("logout revokes the key login created and forgets it", async () => {
    const saved = YAML.parse(await readFile(config.path, "utf8"));
    expect(ok(await cfctl(["logout"]))).toBe("Logged out.\n");
    const key = await platform.client(ApiKeyService).get({ apiKeyId: saved.api_key_id });
    expect(key.state).toBe(ApiKey_State.REVOKED);
    expect(YAML.parse(await readFile(config.path, "utf8"))).toEqual({ url: "http://127.0.0.1", domain_id: "domain-default", user_id: "admin" });
    const after = await cfctl(["whoami"]);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^error: ERROR_AUTHENTICATE_FAILURE: Not logged in/);
  });
});
