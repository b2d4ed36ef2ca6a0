// The plugin registry through its clients: the SDK's `client.plugins` (plugins, versions, aliases,
// resolve) and `client.enrollments` (create, refresh, waitUntilSettled, cancel), and cfctl's
// `plugins`, `plugin-aliases` and `enrollments` verbs, against a running platform with real plugin servers.
import { ErrorCode } from "@cloudforet/errors";
import { authenticateFailure, definePlugin, servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { Client, ConflictError, EnrollmentStatus, NotFoundError, PluginRoutingMode, ValidationError } from "@cloudforet/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCfctl, serviceUrlEnv } from "../cli/support";
import { ADMIN_PASSWORD, type TestPlatform } from "../support/platform";
import { startInventoryPlatform } from "./inventory-platform";

/** A collector plugin whose Verify accepts only `api_key: good-key`. */
function namedPlugin(name: string) {
  return definePlugin({
    init() {
      return { served_by: name };
    },
    verify(_options, secretData) {
      if (secretData.api_key !== "good-key") throw authenticateFailure("Invalid API key");
    },
    async *collect() {},
  });
}

const PLUGIN = "plugin-clients";
let platform: TestPlatform;
let a: ServedPlugin;
let b: ServedPlugin;
let client: Client;
let env: Record<string, string>;

beforeAll(async () => {
  [a, b] = await Promise.all(["a", "b"].map((name) => servePlugin(namedPlugin(name), { host: "127.0.0.1", port: 0 })));
  platform = await startInventoryPlatform({ INVENTORY_ENROLLMENT_POLL_MS: "100" });
  client = new Client({ urls: { identity: platform.url("identity"), inventory: platform.url("inventory") }, domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD });
  const urls = serviceUrlEnv({ ...platform, url: (name: string) => (["identity", "inventory"].includes(name) ? platform.url(name) : "http://127.0.0.1:9") });
  env = { ...urls, CLOUDFORET_TOKEN: platform.admin.token, CFCTL_CONFIG: "/nonexistent/cfctl-config.yaml" };
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await Promise.all([a, b].map((p) => p?.close()));
});

describe("SDK: client.plugins", () => {
  it("registers a plugin with two versions, reads it back and pages the list", async () => {
    const registered = await client.plugins.register({ pluginId: PLUGIN, name: "Clients collector", routingMode: PluginRoutingMode.FAILOVER, tags: { team: "ops" } });
    expect(registered).toMatchObject({ pluginId: PLUGIN, name: "Clients collector", routingMode: PluginRoutingMode.FAILOVER, tags: { team: "ops" }, domainId: "domain-default" });
    const v1 = await client.plugins.addVersion(PLUGIN, "1.0.0", [{ url: a.url }]);
    expect(v1).toMatchObject({ pluginId: PLUGIN, version: "1.0.0" });
    expect(v1.endpoints.map((e) => [e.url, e.weight])).toEqual([[a.url, 1]]);
    await client.plugins.addVersion(PLUGIN, "1.1.0", [{ url: b.url, weight: 2 }]);
    await client.plugins.register({ pluginId: "plugin-clients-other", name: "Other" });

    const plugin = await client.plugins.get(PLUGIN);
    expect(plugin.versions.map((v) => [v.version, v.endpoints.map((e) => [e.url, e.weight])])).toEqual([
      ["1.1.0", [[b.url, 2]]],
      ["1.0.0", [[a.url, 1]]],
    ]);
    const page = await client.plugins.list({ sort: { key: "plugin_id" } }).page(0, 1);
    expect(page).toMatchObject({ totalCount: 2, start: 0, limit: 1 });
    expect(page.items.map((p) => p.pluginId)).toEqual(["plugin-clients"]);
    expect((await client.plugins.list({ sort: { key: "plugin_id" }, pageSize: 1 }).all()).map((p) => p.pluginId)).toEqual([PLUGIN, "plugin-clients-other"]);
    expect(await client.plugins.list({ filter: [{ k: "name", v: "Other" }] }).count()).toBe(1);

    const updated = await client.plugins.update(PLUGIN, { name: "Clients collector v2", tags: { tier: "1" } });
    expect(updated).toMatchObject({ name: "Clients collector v2", tags: { team: "ops", tier: "1" } });
  });

  it("creates alias stable → 1.0.0, switches it to 1.1.0, and resolve follows it", async () => {
    expect(await client.plugins.aliases.create(PLUGIN, "stable", "1.0.0")).toMatchObject({ pluginId: PLUGIN, name: "stable", version: "1.0.0" });
    expect(await client.plugins.resolve(PLUGIN, "stable")).toMatchObject({ version: "1.0.0", alias: "stable", endpoint: { url: a.url } });

    const switched = await client.plugins.aliases.switch(PLUGIN, "stable", "1.1.0");
    expect(switched).toMatchObject({ alias: { name: "stable", version: "1.1.0" }, previousVersion: "1.0.0" });
    const resolved = await client.plugins.resolve(PLUGIN, "stable");
    expect(resolved).toMatchObject({ pluginId: PLUGIN, version: "1.1.0", alias: "stable", routingMode: PluginRoutingMode.FAILOVER, endpoint: { url: b.url } });
    expect(resolved.explanation).toContain("alias stable → 1.1.0");
    expect(resolved.candidates.map((e) => e.url)).toEqual([b.url]);
    // No version: the alias "stable".
    expect((await client.plugins.resolve(PLUGIN)).version).toBe("1.1.0");
    expect((await client.plugins.resolve(PLUGIN, "1.0.0")).endpoint?.url).toBe(a.url);

    expect((await client.plugins.aliases.list(PLUGIN).all()).map((x) => [x.name, x.version])).toEqual([["stable", "1.1.0"]]);
    await client.plugins.aliases.create(PLUGIN, "canary", "1.0.0");
    expect((await client.plugins.aliases.list().all()).map((x) => x.name).sort()).toEqual(["canary", "stable"]);
    await client.plugins.aliases.delete(PLUGIN, "canary");
    expect(await client.plugins.aliases.list(PLUGIN).count()).toBe(1);
  });

  it("enrollments: create answers PENDING, waitUntilSettled reaches ACTIVE or FAILED with the reason, cancel once", async () => {
    expect(client.enrollments).toBe(client.plugins.enrollments);
    const created = await client.enrollments.create({ pluginId: PLUGIN, version: "stable", parameters: { region: "eu", api_key: "good-key" } });
    expect(created).toMatchObject({ status: EnrollmentStatus.PENDING, pluginId: PLUGIN, version: "stable", workspaceId: "", parameters: { region: "eu", api_key: "********" } });
    const active = await client.enrollments.waitUntilSettled(created.enrollmentId, { timeoutMs: 20_000, intervalMs: 50 });
    expect(active).toMatchObject({ enrollmentId: created.enrollmentId, status: EnrollmentStatus.ACTIVE, resolvedVersion: "1.1.0", reason: "" });
    expect(active.verifiedAt).toBeDefined();
    expect(await client.enrollments.refresh(created.enrollmentId)).toMatchObject({ status: EnrollmentStatus.ACTIVE, resolvedVersion: "1.1.0" });

    const refused = await client.enrollments.create({ pluginId: PLUGIN, version: "1.0.0", parameters: { api_key: "wrong" } });
    const failed = await client.enrollments.waitUntilSettled(refused.enrollmentId, { timeoutMs: 20_000 });
    expect(failed).toMatchObject({ status: EnrollmentStatus.FAILED, resolvedVersion: "1.0.0", reason: "ERROR_AUTHENTICATE_FAILURE: Invalid API key" });

    const listed = await client.enrollments.list({ filter: [{ k: "plugin_id", v: PLUGIN }] }).all();
    expect(listed.map((e) => e.enrollmentId).sort()).toEqual([created.enrollmentId, refused.enrollmentId].sort());
    expect(JSON.stringify(listed.map((e) => e.parameters))).not.toContain("good-key");

    expect(await client.enrollments.cancel(refused.enrollmentId)).toMatchObject({ status: EnrollmentStatus.CANCELLED });
    await expect(client.enrollments.cancel(refused.enrollmentId)).rejects.toBeInstanceOf(ConflictError);
    // A settled enrollment returns at once.
    expect((await client.enrollments.waitUntilSettled(refused.enrollmentId, { timeoutMs: 1000 })).status).toBe(EnrollmentStatus.CANCELLED);
  }, 60_000);

  it("maps bad input to ValidationError (ERROR_INVALID_PARAMETER naming the field), NotFoundError and ConflictError", async () => {
    const invalid = (parameter: string) => ({ errorCode: ErrorCode.INVALID_PARAMETER, details: expect.objectContaining({ parameter }) });
    const badId = client.plugins.register({ pluginId: "bad id!", name: "x" });
    await expect(badId).rejects.toBeInstanceOf(ValidationError);
    await expect(badId).rejects.toMatchObject(invalid("plugin_id"));
    await expect(client.plugins.register({ name: "" })).rejects.toMatchObject(invalid("name"));
    await expect(client.plugins.addVersion(PLUGIN, "2.0.0", [{ url: "not a url" }])).rejects.toMatchObject(invalid("endpoints[0].url"));
    await expect(client.plugins.addVersion(PLUGIN, "2.0.0", [{ url: a.url, weight: -1 }])).rejects.toMatchObject(invalid("endpoints[0].weight"));
    await expect(client.plugins.addVersion(PLUGIN, "latest", [{ url: a.url }])).rejects.toMatchObject(invalid("version"));
    await expect(client.plugins.aliases.create(PLUGIN, "beta", "9.9.9")).rejects.toMatchObject(invalid("version"));
    await expect(client.plugins.resolve(PLUGIN, "nightly")).rejects.toMatchObject(invalid("version"));
    await expect(client.enrollments.create({ pluginId: PLUGIN, version: "7.0.0" })).rejects.toMatchObject(invalid("version"));

    await expect(client.plugins.get("plugin-missing")).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.enrollments.get("enrollment-missing")).rejects.toMatchObject({ errorCode: ErrorCode.NOT_FOUND });
    await expect(client.plugins.register({ pluginId: PLUGIN, name: "again" })).rejects.toBeInstanceOf(ConflictError);
    await expect(client.plugins.aliases.create(PLUGIN, "stable", "1.0.0")).rejects.toBeInstanceOf(ConflictError);
    // An alias names 1.1.0: it cannot be removed.
    await expect(client.plugins.removeVersion(PLUGIN, "1.1.0")).rejects.toBeInstanceOf(ConflictError);

    await client.plugins.delete("plugin-clients-other");
    await expect(client.plugins.get("plugin-clients-other")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("cfctl plugins, plugin-aliases, enrollments", () => {
  it("lists and resolves plugins, switches an alias, enrolls", async () => {
    const [list, json, got, resolved] = await Promise.all([
      runCfctl(["plugins", "list"], env),
      runCfctl(["plugins", "list", "-o", "json"], env),
      runCfctl(["plugins", "get", PLUGIN], env),
      runCfctl(["plugins", "resolve", PLUGIN, "stable"], env),
    ]);
    expect({ code: list.code, stderr: list.stderr }).toEqual({ code: 0, stderr: "" });
    const [header, ...rows] = list.stdout.trim().split("\n");
    expect(header).toMatch(/^PLUGIN_ID +NAME +KIND +ROUTING_MODE +CREATED_AT$/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(new RegExp(`^${PLUGIN} +Clients collector v2 +COLLECTOR +FAILOVER +\\d{4}-`));
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ plugin_id: PLUGIN, routing_mode: "FAILOVER", tags: { team: "ops", tier: "1" } })]);

    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/VERSIONS +ALIASES/);
    expect(got.stdout).toContain("1.1.0,1.0.0");
    expect(got.stdout).toContain("stable=1.1.0");

    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toContain(b.url);
    expect(resolved.stdout).toContain("alias stable → 1.1.0");

    const switched = await runCfctl(["plugin-aliases", "switch", PLUGIN, "stable", "1.0.0"], env);
    expect({ code: switched.code, stdout: switched.stdout, stderr: switched.stderr }).toEqual({ code: 0, stdout: `plugin/${PLUGIN} alias stable: 1.1.0 → 1.0.0\n`, stderr: "" });
    expect(await client.plugins.resolve(PLUGIN, "stable")).toMatchObject({ version: "1.0.0", endpoint: { url: a.url } });
    const [resolvedJson, aliases] = await Promise.all([runCfctl(["plugins", "resolve", PLUGIN, "-o", "json"], env), runCfctl(["plugin-aliases", "list", PLUGIN, "-o", "json"], env)]);
    expect(JSON.parse(resolvedJson.stdout)).toMatchObject({ plugin_id: PLUGIN, version: "1.0.0", alias: "stable", endpoint: { url: a.url } });
    expect(JSON.parse(aliases.stdout).map((x: { name: string; version: string }) => [x.name, x.version])).toEqual([["stable", "1.0.0"]]);

    // Register and add a version from the command line.
    const registered = await runCfctl(["plugins", "register", "plugin-cli", "--name", "CLI plugin", "--routing", "weighted"], env);
    expect(registered).toMatchObject({ code: 0, stdout: "plugin/plugin-cli registered\n" });
    const added = await runCfctl(["plugins", "add-version", "plugin-cli", "0.1.0", "--endpoint", `${a.url}=3`], env);
    expect(added).toMatchObject({ code: 0, stdout: "plugin/plugin-cli version 0.1.0 added (1 endpoint)\n" });
    expect((await client.plugins.get("plugin-cli")).versions[0]!.endpoints.map((e) => [e.url, e.weight])).toEqual([[a.url, 3]]);

    const enrolled = await runCfctl(["enrollments", "create", PLUGIN, "--version", "stable", "--parameters-file", "-", "--wait", "-o", "json"], env, JSON.stringify({ api_key: "good-key" }));
    expect(enrolled.stderr).toBe("");
    expect(enrolled.code).toBe(0);
    const enrollment = JSON.parse(enrolled.stdout);
    expect(enrollment).toMatchObject({ plugin_id: PLUGIN, status: "ACTIVE", resolved_version: "1.0.0", parameters: { api_key: "********" } });
    const refused = await runCfctl(["enrollments", "create", PLUGIN, "--param", "api_key=wrong", "--wait"], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("FAILED");
    expect(refused.stdout).toContain("ERROR_AUTHENTICATE_FAILURE: Invalid API key");
    const active = await runCfctl(["enrollments", "list", "--plugin", PLUGIN, "--status", "active", "-o", "name"], env);
    expect(active.stdout.trim().split("\n")).toContain(`enrollment/${enrollment.enrollment_id}`);
    expect(active.stdout.trim().split("\n").length).toBe((await client.enrollments.list({ filter: [{ k: "plugin_id", v: PLUGIN }, { k: "status", v: "ACTIVE" }] }).all()).length);
    const shown = await runCfctl(["enrollments", "get", enrollment.enrollment_id, "-o", "yaml"], env);
    expect(shown.stdout).toContain(`enrollment_id: ${enrollment.enrollment_id}`);
    const cancelled = await runCfctl(["enrollments", "cancel", enrollment.enrollment_id], env);
    expect(cancelled).toMatchObject({ code: 0, stdout: `enrollment/${enrollment.enrollment_id} cancelled\n` });
    expect((await client.enrollments.refresh(enrollment.enrollment_id)).status).toBe(EnrollmentStatus.CANCELLED);

    // Errors: the platform's as `error: CODE: …` (exit 1), usage mistakes exit 2.
    const bad = await runCfctl(["plugins", "resolve", PLUGIN, "nightly"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("ERROR_INVALID_PARAMETER");
    const usage = await runCfctl(["plugin-aliases", "switch", PLUGIN], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage: cfctl plugin-aliases");
  }, 180_000);
});
