import type { SessionRow } from "../db/schema";
import { pageOf } from "../instances/instances";
import { instanceJson } from "../instances/rest";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, text, type Secured } from "../rest/route-kit";
import { effectiveState, type Sessions } from "./sessions";

/** The engine's Session. */
export function sessionJson(row: SessionRow) {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    session_key: row.sessionKey,
    data: row.data,
    state: effectiveState(row),
    created_at: timestampJson(row.createdAt),
    updated_at: timestampJson(row.updatedAt),
    ...(row.expiresAt ? { expires_at: timestampJson(row.expiresAt) } : {}),
  };
}

/** Sessions at the engine's paths, plus a paginated `GET /sessions?state=`. */
export function sessionRoutes(router: RestRouter, sessions: Sessions, secured: Secured): void {
  router
    .on(
      "POST",
      "/sessions",
      secured("SessionService.Create", async (req, a) => {
        const body = await objectBody(req);
        const row = await sessions.create(a.owner(body.tenant_id), { sessionKey: body.session_key, data: body.data, expiresAt: body.expires_at });
        return { status: 201, body: sessionJson(row) };
      }),
    )
    .on(
      "GET",
      "/sessions",
      secured("SessionService.List", async (req, a) => {
        const q = req.query;
        const rows = await sessions.list(a.ownerScope(q.get("tenant_id")), text(q.get("state")), pageOf(q.get("offset"), q.get("limit")));
        return { status: 200, body: rows.map(sessionJson) };
      }),
    )
    .on(
      "GET",
      "/sessions/by-key/:tenant_id/:key",
      secured("SessionService.GetByKey", async (req, a) => ({ status: 200, body: sessionJson(await sessions.getByKey(a.owner(req.params.tenant_id), req.params.key)) })),
    )
    .on(
      "GET",
      "/sessions/:id",
      secured("SessionService.Get", async (req, a) => ({ status: 200, body: sessionJson(await sessions.get(a.ownerScope(req.query.get("tenant_id")), req.params.id)) })),
    )
    .on(
      "PATCH",
      "/sessions/:id/data",
      secured("SessionService.UpdateData", async (req, a) => {
        const body = await objectBody(req);
        return { status: 200, body: sessionJson(await sessions.updateData(a.ownerScope(body.tenant_id), req.params.id, body.data)) };
      }),
    )
    .on(
      "PATCH",
      "/sessions/:id/state",
      secured("SessionService.UpdateState", async (req, a) => {
        const body = await objectBody(req);
        return { status: 200, body: sessionJson(await sessions.updateState(a.ownerScope(body.tenant_id), req.params.id, body.state)) };
      }),
    )
    .on(
      "GET",
      "/sessions/:id/instances",
      secured("SessionService.ListInstances", async (req, a) => {
        const q = req.query;
        const rows = await sessions.instances(a.ownerScope(q.get("tenant_id")), req.params.id, pageOf(q.get("offset"), q.get("limit")));
        return { status: 200, body: rows.map(instanceJson) };
      }),
    );
}
