import { invalidParameter } from "@cloudforet/errors";
import type { RecurrentRequestRow } from "../db/schema";
import { recurrenceOfRow, type RecurrentRequests } from "./recurrent-requests";
import { timestampJson } from "../rest/rest-json";
import type { RestRequest, RestRouter } from "../rest/rest-server";
import { objectBody, text, type Secured } from "../rest/route-kit";

/** A recurrent request as the REST API answers it (the target without secrets). */
export function recurrentJson(row: RecurrentRequestRow) {
  const r = recurrenceOfRow(row);
  return {
    id: row.id,
    tenant_id: row.tenantId,
    name: row.name,
    recurrence: r.scheduleType === "interval" ? { schedule_type: "interval", interval_seconds: r.intervalSeconds } : { schedule_type: "cron", cron_expression: r.cronExpression, timezone: r.timezone },
    target: row.target,
    status: row.status,
    next_run_at: timestampJson(row.nextRunAt),
    last_run_at: timestampJson(row.lastRunAt),
    last_instance_id: row.lastInstanceId,
    run_count: row.runCount,
    created_at: timestampJson(row.createdAt),
    updated_at: timestampJson(row.updatedAt),
  };
}

/** seed 001's skip/limit: skip ≥ 0, limit 1..1000 (default 100). */
function skipLimit(skip: string | null, limit: string | null): { offset: number; limit: number } {
  const s = skip === null || skip === "" ? 0 : Number(skip);
  const l = limit === null || limit === "" ? 100 : Number(limit);
  if (!Number.isInteger(s) || s < 0) throw invalidParameter("skip must be an integer ≥ 0", { parameter: "skip", value: String(skip) });
  if (!Number.isInteger(l) || l < 1 || l > 1000) throw invalidParameter("limit must be an integer from 1 to 1000", { parameter: "limit", value: String(limit) });
  return { offset: s, limit: l };
}

const authorizationOf = (req: RestRequest) => {
  const header = req.headers.authorization;
  return (Array.isArray(header) ? header[0] : header) || undefined;
};

/** /recurrent-requests: create, list ({data, count}), get, patch, trigger, delete. */
export function recurrentRoutes(router: RestRouter, requests: RecurrentRequests, secured: Secured): void {
  router
    .on(
      "POST",
      "/recurrent-requests",
      secured("RecurrentRequestService.Create", async (req, a) => {
        const body = await objectBody(req);
        const row = await requests.create({
          ...a.owner(body.tenant_id),
          name: body.name,
          recurrence: body.recurrence,
          target: body.target,
          status: body.status,
          callerAuthorization: authorizationOf(req),
        });
        return { status: 201, body: recurrentJson(row) };
      }),
    )
    .on(
      "GET",
      "/recurrent-requests",
      secured("RecurrentRequestService.List", async (req, a) => {
        const q = req.query;
        const { results, totalCount } = await requests.list(
          { ...a.ownerScope(q.get("tenant_id")), status: text(q.get("status")), name: text(q.get("name")) },
          skipLimit(q.get("skip"), q.get("limit")),
        );
        return { status: 200, body: { data: results.map(recurrentJson), count: totalCount } };
      }),
    )
    .on(
      "GET",
      "/recurrent-requests/:id",
      secured("RecurrentRequestService.Get", async (req, a) => ({ status: 200, body: recurrentJson(await requests.get(req.params.id, a.ownerScope(req.query.get("tenant_id")))) })),
    )
    .on(
      "PATCH",
      "/recurrent-requests/:id",
      secured("RecurrentRequestService.Update", async (req, a) => {
        const body = await objectBody(req);
        const row = await requests.update(
          req.params.id,
          { name: body.name, recurrence: body.recurrence, target: body.target, status: body.status, callerAuthorization: authorizationOf(req) },
          a.ownerScope(req.query.get("tenant_id")),
        );
        return { status: 200, body: recurrentJson(row) };
      }),
    )
    .on(
      "POST",
      "/recurrent-requests/:id/trigger",
      secured("RecurrentRequestService.Trigger", async (req, a) => ({ status: 201, body: { instance_id: await requests.trigger(req.params.id, a.ownerScope(req.query.get("tenant_id"))) } })),
    )
    .on(
      "DELETE",
      "/recurrent-requests/:id",
      secured("RecurrentRequestService.Delete", async (req, a) => {
        await requests.delete(req.params.id, a.ownerScope(req.query.get("tenant_id")));
        return { status: 204 };
      }),
    );
}
