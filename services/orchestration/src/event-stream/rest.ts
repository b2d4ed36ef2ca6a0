import type { Database } from "@cloudforet/db";
import { scopedInstance } from "../execution-tree/scoped-instance";
import type { RestRouter } from "../rest/rest-server";
import type { Secured } from "../rest/route-kit";
import { streamSettingsOf, type EventStreams } from "./event-stream";

/** `GET /instances/{id}/stream?poll_ms=&heartbeat_ms=`: Server-Sent Events of one instance (see EventStreams). */
export function eventStreamRoutes(router: RestRouter, db: Database, streams: EventStreams, secured: Secured): void {
  router.on(
    "GET",
    "/instances/:id/stream",
    secured("InstanceService.Stream", async (req, a) => {
      const settings = streamSettingsOf(req.query);
      const instance = await scopedInstance(db, req.params.id, a.ownerScope(req.query.get("tenant_id")));
      return { status: 200, stream: streams.respond(instance, settings, req.signal) };
    }),
  );
}
