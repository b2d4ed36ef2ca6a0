import type { WebhookDeliveryRow, WebhookSubscriptionRow } from "../db/schema";
import { pageOf } from "../instances/instances";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, text, type Secured } from "../rest/route-kit";
import type { WebhookInput, Webhooks } from "./webhooks";

/** A subscription as answered: the secret never, only whether there is one. */
export function webhookJson(row: WebhookSubscriptionRow) {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    url: row.url,
    event_types: row.eventTypes,
    enabled: row.enabled,
    description: row.description,
    signed: row.sealedSecret !== null,
    created_at: timestampJson(row.createdAt),
    updated_at: timestampJson(row.updatedAt),
  };
}

export function deliveryJson(row: WebhookDeliveryRow) {
  return {
    id: row.id,
    subscription_id: row.subscriptionId,
    event_type: row.eventType,
    instance_id: row.instanceId,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === "pending" ? timestampJson(row.nextAttemptAt) : null,
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    delivered_at: timestampJson(row.deliveredAt),
    created_at: timestampJson(row.createdAt),
    payload: row.payload,
  };
}

const inputOf = (body: Record<string, unknown>): WebhookInput => ({
  url: body.url,
  eventTypes: body.event_types ?? body.eventTypes,
  secret: body.secret,
  enabled: body.enabled,
  description: body.description,
});

/** Outgoing webhook subscriptions of the caller's tenant and their deliveries. */
export function webhookRoutes(router: RestRouter, webhooks: Webhooks, secured: Secured): void {
  router
    .on(
      "POST",
      "/webhooks/subscriptions",
      secured("WebhookService.Create", async (req, a) => {
        const body = await objectBody(req);
        return { status: 201, body: webhookJson(await webhooks.create(a.owner(body.tenant_id), inputOf(body))) };
      }),
    )
    .on(
      "GET",
      "/webhooks/subscriptions",
      secured("WebhookService.List", async (req, a) => {
        const q = req.query;
        const { results } = await webhooks.list(a.ownerScope(q.get("tenant_id")), pageOf(q.get("offset"), q.get("limit")));
        return { status: 200, body: results.map(webhookJson) };
      }),
    )
    .on(
      "GET",
      "/webhooks/subscriptions/:id",
      secured("WebhookService.Get", async (req, a) => ({ status: 200, body: webhookJson(await webhooks.get(a.ownerScope(req.query.get("tenant_id")), req.params.id)) })),
    )
    .on(
      "PATCH",
      "/webhooks/subscriptions/:id",
      secured("WebhookService.Update", async (req, a) => {
        const body = await objectBody(req);
        return { status: 200, body: webhookJson(await webhooks.update(a.ownerScope(body.tenant_id), req.params.id, inputOf(body))) };
      }),
    )
    .on(
      "DELETE",
      "/webhooks/subscriptions/:id",
      secured("WebhookService.Delete", async (req, a) => {
        await webhooks.delete(a.ownerScope(req.query.get("tenant_id")), req.params.id);
        return { status: 204 };
      }),
    )
    .on(
      "GET",
      "/webhooks/subscriptions/:id/deliveries",
      secured("WebhookService.ListDeliveries", async (req, a) => {
        const q = req.query;
        const rows = await webhooks.deliveries(a.ownerScope(q.get("tenant_id")), req.params.id, text(q.get("status")), pageOf(q.get("offset"), q.get("limit")));
        return { status: 200, body: rows.map(deliveryJson) };
      }),
    )
    .on(
      "POST",
      "/webhooks/subscriptions/:id/deliveries/:delivery_id/redeliver",
      secured("WebhookService.Redeliver", async (req, a) => {
        const body = (await req.body()) === undefined ? {} : await objectBody(req);
        return { status: 200, body: deliveryJson(await webhooks.redeliver(a.ownerScope(body.tenant_id), req.params.id, req.params.delivery_id)) };
      }),
    );
}
