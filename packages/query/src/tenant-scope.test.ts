import { PgDialect, pgTable, text } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { domainScope, scopeCondition, tenantCondition, tenantScope } from "./tenant-scope";

const rows = pgTable("rows", { domainId: text("domain_id").notNull(), workspaceId: text("workspace_id").notNull() });
const columns = { domainId: rows.domainId, workspaceId: rows.workspaceId };
const dialect = new PgDialect();
const render = (condition: Parameters<PgDialect["sqlToQuery"]>[0]) => {
  const { sql, params } = dialect.sqlToQuery(condition);
  return { sql, params };
};

const admin = { domainId: "d1", domainAdmin: true, workspaceIds: ["ws-1"] };
const member = { domainId: "d1", domainAdmin: false, workspaceIds: ["ws-1", "ws-2"] };
const nobody = { domainId: "d1", domainAdmin: false, workspaceIds: [] };

describe("tenantScope", () => {
  it("is the whole domain for an admin, the caller's workspaces otherwise", () => {
    expect(tenantScope(admin)).toEqual({ domainId: "d1" });
    expect(tenantScope(member)).toEqual({ domainId: "d1", workspaceIds: ["ws-1", "ws-2"] });
    expect(domainScope(member)).toEqual({ domainId: "d1" });
  });
});

describe("scopeCondition", () => {
  it("keeps an admin to its domain", () => {
    expect(render(tenantCondition(admin, columns))).toEqual({ sql: '"rows"."domain_id" = $1', params: ["d1"] });
  });

  it("keeps a member to its domain and workspaces, domain-wide rows only when asked", () => {
    expect(render(tenantCondition(member, columns))).toEqual({
      sql: '("rows"."domain_id" = $1 and "rows"."workspace_id" in ($2, $3))',
      params: ["d1", "ws-1", "ws-2"],
    });
    expect(render(tenantCondition(member, columns, { domainWideRows: true })).params).toEqual(["d1", "ws-1", "ws-2", ""]);
  });

  it("is simply false for a caller without a readable workspace, never an impossible id", () => {
    expect(render(tenantCondition(nobody, columns))).toEqual({ sql: "false", params: [] });
    expect(render(scopeCondition({ domainId: "d1", workspaceIds: [] }, columns))).toEqual({ sql: "false", params: [] });
    expect(render(tenantCondition(nobody, columns, { domainWideRows: true })).params).toEqual(["d1", ""]);
  });
});
