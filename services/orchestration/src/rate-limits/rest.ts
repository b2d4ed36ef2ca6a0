import type { RateLimitRow } from "../db/schema";
import { formatWindow, type RateLimits } from "./rate-limits";
import { pageOf } from "../instances/instances";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, type Secured } from "../rest/route-kit";

export function rateLimitJson(row: RateLimitRow) {
  return {
    tenant_id: row.tenantId,
    key: row.key,
    max_count: row.maxCount,
    window: formatWindow(row.windowMs),
    window_ms: row.windowMs,
    created_at: timestampJson(row.createdAt),
    updated_at: timestampJson(row.updatedAt),
  };
}

/** Rate limits of the caller's tenant: PUT/GET/DELETE /rate-limits/{key}, GET /rate-limits. */
export function rateLimitRoutes(router: RestRouter, rateLimits: RateLimits, secured: Secured): void {
  router
    .on(
      "PUT",
      "/rate-limits/:key",
      secured("RateLimitService.Set", async (req, a) => {
        const body = await objectBody(req);
        const row = await rateLimits.set(a.owner(body.tenant_id), req.params.key, { maxCount: body.max_count, window: body.window });
        return { status: 200, body: rateLimitJson(row) };
      }),
    )
    .on(
      "GET",
      "/rate-limits",
      secured("RateLimitService.List", async (req, a) => {
        const q = req.query;
        const { results } = await rateLimits.list(a.ownerScope(q.get("tenant_id")), pageOf(q.get("offset"), q.get("limit")));
        return { status: 200, body: results.map(rateLimitJson) };
      }),
    )
    .on(
      "GET",
      "/rate-limits/:key",
      secured("RateLimitService.Get", async (req, a) => ({ status: 200, body: rateLimitJson(await rateLimits.get(a.owner(req.query.get("tenant_id")), req.params.key)) })),
    )
    .on(
      "DELETE",
      "/rate-limits/:key",
      secured("RateLimitService.Delete", async (req, a) => {
        await rateLimits.delete(a.owner(req.query.get("tenant_id")), req.params.key);
        return { status: 204 };
      }),
    );
}
