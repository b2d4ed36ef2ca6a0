import { DeliveryFailure } from "./delivery-failure";

export interface HttpDeliveryRequest {
  url: string;
  method: "POST" | "PUT";
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
}

const BODY_EXCERPT = 300;

/** HTTP statuses worth asking again: the endpoint is busy or broken right now, not refusing the request. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Sends a JSON body; resolves on 2xx. Anything else is a DeliveryFailure whose text is the HTTP
 * status and an excerpt of the body, or the connection error.
 */
export async function sendJson(request: HttpDeliveryRequest): Promise<void> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: { "content-type": "application/json", "user-agent": "cloudforet-notification/1", ...request.headers },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs),
      redirect: "manual",
    });
  } catch (err) {
    throw new DeliveryFailure(describeFetchError(err, request.timeoutMs), true, { cause: err });
  }
  if (response.status >= 200 && response.status < 300) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  const excerpt = await readExcerpt(response);
  const location = response.headers.get("location");
  const detail = [excerpt, location ? `location: ${location}` : ""].filter(Boolean).join("; ");
  throw new DeliveryFailure(`HTTP ${response.status}${detail ? `: ${detail}` : ""}`, retryableStatus(response.status));
}

async function readExcerpt(response: Response): Promise<string> {
  try {
    const text = await response.text();
    return text.replace(/\s+/g, " ").trim().slice(0, BODY_EXCERPT);
  } catch {
    return "";
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) return `timed out after ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.message) return `connection failed: ${cause.message}`;
  return `connection failed: ${err instanceof Error ? err.message : String(err)}`;
}
