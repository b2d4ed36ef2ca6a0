import type { SequenceRow } from "../db/schema";
import { optionalInt, optionalTime } from "../rest/rest-input";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, text, type Secured } from "../rest/route-kit";
import type { Sequences } from "./sequences";

export function sequenceJson(row: SequenceRow) {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    namespace: row.namespace,
    name: row.name,
    version: row.version,
    blocks: row.blocks,
    created_at: timestampJson(row.createdAt),
  };
}

/** Seed 002's Sequences section. */
export function sequenceRoutes(router: RestRouter, sequences: Sequences, secured: Secured): void {
  router
    .on(
      "POST",
      "/sequences",
      secured("SequenceService.Create", async (req, a) => {
        const body = await objectBody(req);
        const version = optionalInt(body.version, "version");
        const row = await sequences.create({
          id: text(body.id),
          ...a.owner(body.tenant_id),
          namespace: body.namespace as string,
          name: body.name as string,
          version,
          blocks: body.blocks,
          createdAt: optionalTime(body.created_at, "created_at"),
        });
        return { status: 201, body: { id: row.id } };
      }),
    )
    .on(
      "GET",
      "/sequences/by-name",
      secured("SequenceService.GetByName", async (req, a) => {
        const q = req.query;
        const row = await sequences.getByName(a.owner(q.get("tenant_id")), q.get("namespace") ?? "", q.get("name") ?? "", optionalInt(q.get("version"), "version"));
        return { status: 200, body: sequenceJson(row) };
      }),
    )
    .on(
      "GET",
      "/sequences/:id",
      secured("SequenceService.Get", async (req, a) => ({ status: 200, body: sequenceJson(await sequences.get(req.params.id, a.ownerScope(req.query.get("tenant_id")))) })),
    );
}
