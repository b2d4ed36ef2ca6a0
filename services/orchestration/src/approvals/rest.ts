import { pageOf } from "../instances/instances";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, text, type Secured } from "../rest/route-kit";
import { decisionOf, type Approvals } from "./approvals";

/**
 * The approvals inbox: `GET /approvals?namespace=&offset=&limit=` → `{items, total}` (the engine's
 * shape), and `POST /approvals/{instance_id}/{block_id}/approve|reject` `{reviewer?, comments?}`.
 */
export function approvalRoutes(router: RestRouter, approvals: Approvals, secured: Secured): void {
  router.on(
    "GET",
    "/approvals",
    secured("ApprovalService.List", async (req, a) => {
      const q = req.query;
      const page = pageOf(q.get("offset"), q.get("limit"));
      return { status: 200, body: await approvals.list(a.ownerScope(q.get("tenant_id")), text(q.get("namespace")), page) };
    }),
  );
  for (const [verb, approved] of [
    ["approve", true],
    ["reject", false],
  ] as const) {
    router.on(
      "POST",
      `/approvals/:instance_id/:block_id/${verb}`,
      secured("ApprovalService.Decide", async (req, a) => {
        const body = (await req.body()) === undefined ? {} : await objectBody(req);
        const decision = decisionOf(body, approved, a.caller?.userId);
        const result = await approvals.decide(a.ownerScope(body.tenant_id), req.params.instance_id, req.params.block_id, decision);
        return { status: 200, body: { ...result, approved, block_id: req.params.block_id, instance_id: req.params.instance_id } };
      }),
    );
  }
}
