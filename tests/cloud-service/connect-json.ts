import type { Identity } from "../support/platform";

/** A JSON answer of the Connect protocol: the body and the HTTP status. */
export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Posts a request exactly as seed 000 writes it (snake_case JSON) with the Connect protocol and
 * returns the JSON the server prints, so tests can compare shapes key by key.
 */
export async function postJson(baseUrl: string, procedure: string, request: unknown, as: Identity): Promise<JsonAnswer> {
  const response = await fetch(`${baseUrl}/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${as.token}` },
    body: JSON.stringify(request),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The ErrorInfo of a Connect JSON error body, flattened the way seed 000 prints errors. */
export function seedError(answer: JsonAnswer): Record<string, unknown> {
  const details = (answer.body.details ?? []) as { type: string; debug?: { reason?: string; metadata?: Record<string, string> } }[];
  const info = details.find((d) => d.type === "google.rpc.ErrorInfo")?.debug ?? {};
  const { request_id: _requestId, ...metadata } = info.metadata ?? {};
  return { code: info.reason, message: answer.body.message, ...metadata };
}
