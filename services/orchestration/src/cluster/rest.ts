import type { ClusterNodeRow } from "../db/schema";
import { pageOf } from "../instances/instances";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import type { Secured } from "../rest/route-kit";
import type { ClusterMembership } from "./cluster-nodes";

/** The engine's ClusterNode. */
export function clusterNodeJson(row: ClusterNodeRow) {
  return {
    id: row.id,
    name: row.name,
    address: row.address,
    status: row.status,
    registered_at: timestampJson(row.registeredAt),
    last_heartbeat_at: timestampJson(row.lastHeartbeatAt),
    drain: row.drain,
  };
}

/** `GET /cluster/nodes?offset=&limit=` and `POST /cluster/nodes/{id}/drain`. */
export function clusterRoutes(router: RestRouter, cluster: ClusterMembership, secured: Secured): void {
  router
    .on(
      "GET",
      "/cluster/nodes",
      secured("ClusterService.ListNodes", async (req, access) => {
        cluster.requireOperator(access.caller);
        const { results } = await cluster.list(pageOf(req.query.get("offset"), req.query.get("limit")));
        return { status: 200, body: results.map(clusterNodeJson) };
      }),
    )
    .on(
      "POST",
      "/cluster/nodes/:id/drain",
      secured("ClusterService.DrainNode", async (req, access) => {
        cluster.requireOperator(access.caller);
        return { status: 200, body: clusterNodeJson(await cluster.drain(req.params.id)) };
      }),
    );
}
