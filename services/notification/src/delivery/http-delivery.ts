import { isOutboundError, outboundRequest, type OutboundPolicy, type OutboundResponse } from "@cloudforet/outbound";
import { DeliveryFailure } from "./delivery-failure";

export interface HttpDeliveryRequest {
  url: string;
  method: "POST" | "PUT";
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
}

/** HTTP statuses worth asking again: the endpoint is busy or broken right now, not refusing the request. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Sends a JSON body under the outbound policy (no loopback, private, link-local or metadata
 * address; redirects are not followed); resolves on 2xx. Anything else is a DeliveryFailure whose
 * text is the HTTP status or a generic connection error: the endpoint's body is never read into it.
 */
export async function sendJson(policy: OutboundPolicy, request: HttpDeliveryRequest): Promise<void> {
  let response: OutboundResponse;
  try {
    response = await outboundRequest(policy, {
      url: request.url,
      method: request.method,
      headers: { "content-type": "application/json", "user-agent": "cloudforet-notification/1", ...request.headers },
      body: JSON.stringify(request.body),
      timeoutMs: request.timeoutMs,
      maxRedirects: 0,
      discardBody: true,
    });
  } catch (err) {
    if (isOutboundError(err)) {
      if (err.kind === "refused") throw new DeliveryFailure(err.message, false, { cause: err });
      throw new DeliveryFailure(err.kind === "timeout" ? err.message : `connection failed: ${err.message}`, err.retryable, { cause: err });
    }
    throw new DeliveryFailure("connection failed", true, { cause: err });
  }
  if (response.status >= 200 && response.status < 300) return;
  const note = response.status >= 300 && response.status < 400 ? " (redirects are not followed)" : "";
  throw new DeliveryFailure(`HTTP ${response.status}${note}`, retryableStatus(response.status));
}
