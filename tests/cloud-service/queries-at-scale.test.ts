import type { Client } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

// Issue 15 part 2 through the RPCs: a type's declared search keys get their index, and List says
// whether its total_count is exact (README "Queries at scale").

let platform: TestPlatform;
let resources: Client<typeof CloudServiceService>;
let types: Client<typeof CloudServiceTypeService>;
let sql: postgres.Sql;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [cloudServiceModule] });
  resources = platform.client(CloudServiceService);
  types = platform.client(CloudServiceTypeService);
  sql = postgres(platform.databaseUrl, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await platform?.close();
});

const item = (i: number) => ({
  cloudServiceType: "compute.Instance",
  cloudServiceName: `vm-${String(i).padStart(5, "0")}`,
  provider: "nutanix",
  data: { cluster: `cluster-${i % 3}`, rack: { row: `r${i % 4}` } },
  tags: { env: i % 2 === 0 ? "prod" : "dev" },
  reference: { resourceId: `vm-${i}` },
});

describe("queries at scale", () => {
  it("builds an index for each data.* key a type declares in metadata.view.search", async () => {
    await types.create({
      key: "compute.Instance",
      provider: "nutanix",
      metadata: { view: { search: [{ key: "data.rack.row", name: "Row" }, { key: "name", name: "Name" }] } },
    });
    const built = async () =>
      (await sql`SELECT c.relname AS name, i.indisvalid AS valid, pg_get_indexdef(c.oid) AS definition FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 WHERE i.indrelid = 'cloud_service.cloud_services'::regclass AND c.relname LIKE 'cs\\_key\\_%'`).map((row) => ({ ...row }));
    await expect.poll(built, { timeout: 20_000 }).toEqual([
      expect.objectContaining({ name: expect.stringMatching(/^cs_key_data_rack_row_[0-9a-f]{10}$/), valid: true, definition: expect.stringContaining("(data -> 'rack'::text) -> 'row'::text") }),
    ]);
  });

  it("answers total_count exactly up to the cap and as a flagged lower bound beyond it", async () => {
    const loaded = await resources.batchUpsert(
      (async function* () {
        yield { items: Array.from({ length: 1200 }, (_, i) => item(i)) };
      })(),
    );
    expect(loaded.createdCount).toBe(1200);
    const headers: Record<string, string | null> = {};
    const exact = await resources.list(
      { query: { filter: [{ k: "data.cluster", v: { kind: { case: "stringValue", value: "cluster-1" } }, o: "eq" }], page: { limit: 5 } } },
      { onHeader: (header) => (headers.exact = header.get("cloudforet-total-count-exact")) },
    );
    expect(exact.totalCount).toBe(400);
    expect(headers.exact).toBe("true");
    const capped = await resources.list({ query: { page: { limit: 5 } } }, { onHeader: (header) => (headers.capped = header.get("cloudforet-total-count-exact")) });
    expect(capped.totalCount).toBe(1001);
    expect(headers.capped).toBe("false");
    const counted = await resources.list({ query: { countOnly: true } });
    expect(counted.totalCount).toBe(1200);
  });
});
