import { eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import type { Block } from "../definitions/blocks";
import { sequences } from "../db/schema";
import type { RestRouter } from "../rest/rest-server";
import type { Secured } from "../rest/route-kit";
import { executionTree } from "./execution-tree";
import { scopedInstance } from "./scoped-instance";

/** `GET /instances/{id}/tree`: the instance's execution tree, flat, parents first (the engine's ExecutionNode list). */
export function executionTreeRoutes(router: RestRouter, db: Database, secured: Secured): void {
  router.on(
    "GET",
    "/instances/:id/tree",
    secured("InstanceService.GetTree", async (req, a) => {
      const instance = await scopedInstance(db, req.params.id, a.ownerScope(req.query.get("tenant_id")));
      const [sequence] = await db.select({ blocks: sequences.blocks }).from(sequences).where(eq(sequences.id, instance.sequenceId));
      return { status: 200, body: executionTree(instance.id, (sequence?.blocks ?? []) as Block[], instance.execution) };
    }),
  );
}
