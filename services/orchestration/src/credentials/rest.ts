import type { CredentialRow } from "../db/schema";
import { pageOf } from "../instances/instances";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, type Secured } from "../rest/route-kit";
import type { CredentialInput, Credentials } from "./credentials";

/** What the engine prints for a secret it holds. */
const REDACTED = "[REDACTED]";

/** The engine's CredentialDef with its secrets redacted. */
export function credentialJson(row: CredentialRow) {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    name: row.name,
    kind: row.kind,
    value: REDACTED,
    ...(row.expiresAt ? { expires_at: timestampJson(row.expiresAt) } : {}),
    ...(row.refreshUrl ? { refresh_url: row.refreshUrl } : {}),
    ...(row.sealedRefreshToken ? { refresh_token: REDACTED } : {}),
    enabled: row.enabled,
    ...(row.description !== null ? { description: row.description } : {}),
    created_at: timestampJson(row.createdAt),
    updated_at: timestampJson(row.updatedAt),
  };
}

const inputOf = (body: Record<string, unknown>): CredentialInput => ({
  id: body.id,
  name: body.name,
  kind: body.kind,
  value: body.value,
  expiresAt: body.expires_at,
  refreshUrl: body.refresh_url,
  refreshToken: body.refresh_token,
  enabled: body.enabled,
  description: body.description,
});

/** `POST/GET /credentials`, `GET/PATCH/DELETE /credentials/{id}` (the engine's routes). */
export function credentialRoutes(router: RestRouter, credentials: Credentials, secured: Secured): void {
  router
    .on(
      "POST",
      "/credentials",
      secured("CredentialService.Create", async (req, a) => {
        const body = await objectBody(req);
        return { status: 201, body: credentialJson(await credentials.create(a.owner(body.tenant_id), inputOf(body))) };
      }),
    )
    .on(
      "GET",
      "/credentials",
      secured("CredentialService.List", async (req, a) => {
        const q = req.query;
        return { status: 200, body: (await credentials.list(a.ownerScope(q.get("tenant_id")), pageOf(q.get("offset"), q.get("limit")))).map(credentialJson) };
      }),
    )
    .on(
      "GET",
      "/credentials/:id",
      secured("CredentialService.Get", async (req, a) => ({ status: 200, body: credentialJson(await credentials.get(a.owner(req.query.get("tenant_id")), req.params.id)) })),
    )
    .on(
      "PATCH",
      "/credentials/:id",
      secured("CredentialService.Update", async (req, a) => {
        const body = await objectBody(req);
        return { status: 200, body: credentialJson(await credentials.update(a.owner(body.tenant_id), req.params.id, inputOf(body))) };
      }),
    )
    .on(
      "DELETE",
      "/credentials/:id",
      secured("CredentialService.Delete", async (req, a) => {
        await credentials.delete(a.owner(req.query.get("tenant_id")), req.params.id);
        return { status: 204 };
      }),
    );
}
