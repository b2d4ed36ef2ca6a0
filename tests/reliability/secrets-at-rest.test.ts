import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { inventoryModule } from "@cloudforet/inventory";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { secretCanary } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestPlatform } from "../support/platform";
import { postUnary } from "./connect-raw";
import { createObjects, FIXTURE_SECRET, FIXTURE_USER_PASSWORD } from "./fixtures";

/**
 * Issue 9 §2 "Secrets": after secrets, passwords and API keys went through every path that
 * carries them (create, upsert, read back, a channel's credentials, a job task's secret), no
 * table of any service's schema holds one of them in plain text. The values are canaries
 * (packages/testing), so the suite's secrets sweep also looks for them in every log line.
 */

const platform = await startTestPlatform({ modules: [inventoryModule, cloudServiceModule, costModule, monitoringModule, notificationModule] });
const sql = postgres(platform.databaseUrl, { max: 1, onnotice: () => {} });

afterAll(async () => {
  await sql.end();
  await platform?.close();
});

const identity = platform.url("identity");
const rpc = async (procedure: string, body: unknown) => {
  const answer = await postUnary(identity, procedure, body, platform.admin.token);
  if (answer.code !== "ok") throw new Error(`${procedure}: ${answer.code} ${answer.message}`);
  return answer.body as Record<string, string>;
};

/** The rows, as text, of every table of every schema that contain `needle`. */
async function tablesHolding(needle: string): Promise<string[]> {
  const tables = await sql<{ schema: string; name: string }[]>`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`;
  const found: string[] = [];
  for (const { schema, name } of tables) {
    const [{ count }] = await sql<{ count: number }[]>`select count(*)::int as count from ${sql(schema)}.${sql(name)} t where t::text like ${`%${needle}%`}`;
    if (count > 0) found.push(`${schema}.${name} (${count} rows)`);
  }
  return found;
}

describe("secrets at rest", () => {
  it("no table holds a secret value, a password or an API key in plain text", async () => {
    const ids = await createObjects(platform, platform.admin, "secrets");
    const upserted = secretCanary("upserted");
    await rpc("cloudforet.identity.v1.SecretService/Set", { name: "upserted", workspace_id: ids.workspace_id, data: { token: upserted, nested: { key: upserted } } });
    const read = await rpc("cloudforet.identity.v1.SecretService/GetData", { secret_id: ids.secret_id });
    expect(JSON.stringify(read)).toContain(FIXTURE_SECRET);
    const apiKey = (await rpc("cloudforet.identity.v1.ApiKeyService/Create", { user_id: ids.user_id, name: "plaintext-check" })).api_key;
    expect(apiKey.length).toBeGreaterThan(16);
    const channelCredential = secretCanary("channel_credential");
    const channelSecret = (await rpc("cloudforet.identity.v1.SecretService/Create", { name: "hook-auth", workspace_id: ids.workspace_id, data: { headers: { Authorization: `Bearer ${channelCredential}` } } })).secret_id;
    const channel = await postUnary(
      platform.url("notification"),
      "cloudforet.notification.v1.ChannelService/Create",
      { name: "hook-with-secret", channel_type: "WEBHOOK", options: { url: "http://127.0.0.1:9/hook" }, secret_id: channelSecret, workspace_id: ids.workspace_id },
      platform.admin.token,
    );
    expect(channel.code).toBe("ok");
    await postUnary(platform.url("notification"), "cloudforet.notification.v1.NotificationService/Send", { title: "t", message: "m", channels: [(channel.body as { channel_id: string }).channel_id] }, platform.admin.token);
    await postUnary(platform.url("inventory"), "cloudforet.inventory.v1.JobTaskService/Create", { job_id: ids.job_id, service_account_id: ids.service_account_id, secret_id: ids.secret_id }, platform.admin.token);

    const plaintexts = { "secret value": FIXTURE_SECRET, "upserted secret": upserted, "channel credential": channelCredential, "API key": apiKey, "admin password": ADMIN_PASSWORD, "user password": FIXTURE_USER_PASSWORD };
    const found: string[] = [];
    for (const [what, value] of Object.entries(plaintexts)) {
      for (const table of await tablesHolding(value)) found.push(`${what} in ${table}`);
    }
    expect(found).toEqual([]);
    // The scan does see what is stored: a non-secret name is found where it was written.
    expect(await tablesHolding("hook-with-secret")).not.toEqual([]);
  });
});
