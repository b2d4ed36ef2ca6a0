import type { TenantGrantRow } from "../db/schema";
import { pageOf } from "../instances/instances";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, text, type Secured } from "../rest/route-kit";
import type { TenantGrants } from "./tenant-grants";

const grantJson = (row: TenantGrantRow) => ({ api_key_id: row.apiKeyId, tenant_id: row.tenantId, created_at: timestampJson(row.createdAt) });

/** /tenant-grants: which Orch8 tenants of the caller's domain an API key may act in (DOMAIN_ADMIN). */
export function tenantGrantRoutes(router: RestRouter, grants: TenantGrants, secured: Secured): void {
  router
    .on(
      "GET",
      "/tenant-grants",
      secured("TenantGrantService.List", async (req, a) => {
        const q = req.query;
        const rows = await grants.list(a.caller?.domainId ?? "", text(q.get("api_key_id")), pageOf(q.get("offset"), q.get("limit")));
        return { status: 200, body: rows.map(grantJson) };
      }),
    )
    .on(
      "PUT",
      "/tenant-grants/:api_key_id",
      secured("TenantGrantService.Set", async (req, a) => {
        const body = await objectBody(req);
        const rows = await grants.set(a.caller?.domainId ?? "", req.params.api_key_id, body.tenant_ids);
        return { status: 200, body: { api_key_id: req.params.api_key_id, tenant_ids: rows.map((r) => r.tenantId) } };
      }),
    )
    .on(
      "DELETE",
      "/tenant-grants/:api_key_id",
      secured("TenantGrantService.Delete", async (req, a) => {
        await grants.delete(a.caller?.domainId ?? "", req.params.api_key_id);
        return { status: 204 };
      }),
    );
}
