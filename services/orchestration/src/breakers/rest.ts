import { notFound } from "@cloudforet/errors";
import { pageOf } from "../instances/instances";
import type { RestRouter } from "../rest/rest-server";
import type { Secured } from "../rest/route-kit";
import type { HandlerBreakers } from "./handler-breakers";

/**
 * Per-handler circuit breakers, at the engine's paths: `GET /circuit-breakers` (the caller's
 * tenant), `GET /tenants/{tenant_id}/circuit-breakers[/{handler}]`, `POST …/{handler}/reset`.
 * They are this replica's breakers (each replica keeps its own).
 */
export function breakerRoutes(router: RestRouter, breakers: HandlerBreakers, secured: Secured): void {
  router
    .on(
      "GET",
      "/circuit-breakers",
      secured("CircuitBreakerService.List", async (req, a) => ({ status: 200, body: paged(breakers.list(a.owner(req.query.get("tenant_id"))), req.query) })),
    )
    .on(
      "GET",
      "/tenants/:tenant_id/circuit-breakers",
      secured("CircuitBreakerService.List", async (req, a) => ({ status: 200, body: paged(breakers.list(a.owner(req.params.tenant_id)), req.query) })),
    )
    .on(
      "GET",
      "/tenants/:tenant_id/circuit-breakers/:handler",
      secured("CircuitBreakerService.Get", async (req, a) => {
        const state = breakers.get(a.owner(req.params.tenant_id), req.params.handler);
        if (!state) throw notFound(`circuit_breaker ${req.params.handler} not found`, { handler: req.params.handler });
        return { status: 200, body: state };
      }),
    )
    .on(
      "POST",
      "/tenants/:tenant_id/circuit-breakers/:handler/reset",
      secured("CircuitBreakerService.Reset", async (req, a) => {
        const owner = a.owner(req.params.tenant_id);
        if (!breakers.reset(owner, req.params.handler)) throw notFound(`circuit_breaker ${req.params.handler} not found`, { handler: req.params.handler });
        return { status: 200, body: breakers.get(owner, req.params.handler) };
      }),
    );
}

/** `offset` and `limit` over a list held in memory. */
function paged<T>(items: T[], query: URLSearchParams): T[] {
  const page = pageOf(query.get("offset"), query.get("limit"));
  return items.slice(page.offset, page.offset + page.limit);
}
