import { isOutboundError, outboundRequest, redactUrl, type OutboundPolicy, type OutboundResponse } from "@cloudforet/outbound";
import { completed, isObject, permanent, retryable, type StepHandler, type StepOutcome } from "./handler";

export interface LlmSettings {
  /** OpenAI-compatible base URL (`…/v1`); requests go to `<url>/chat/completions`. */
  llmUrl?: string;
  llmApiKey?: string;
  /** Base URL of a tool service: tool_call POSTs `arguments` to `<url>/tools/<tool_name>`. */
  toolUrl?: string;
}

/**
 * POSTs JSON under the outbound policy (the configured endpoint's host is allowlisted by the
 * caller; its redirects are still checked). Errors never carry the endpoint's body.
 */
async function postJson(policy: OutboundPolicy, url: string, body: unknown, signal: AbortSignal, apiKey?: string): Promise<StepOutcome | { ok: true; json: unknown }> {
  const shown = redactUrl(url);
  let response: OutboundResponse;
  try {
    response = await outboundRequest(policy, {
      url,
      method: "POST",
      headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (isOutboundError(err)) return err.retryable ? retryable(`POST ${shown}: ${err.message}`) : permanent(`POST ${shown}: ${err.message}`);
    return retryable(`POST ${shown} failed`);
  }
  if (response.status >= 500 || response.status === 429) return retryable(`HTTP ${response.status} from ${shown}`);
  if (response.status >= 400) return permanent(`HTTP ${response.status} from ${shown}`);
  try {
    return { ok: true, json: JSON.parse(response.body.toString("utf8")) };
  } catch {
    return permanent(`${shown} answered non-JSON`);
  }
}

/**
 * The policy plus the operator-configured endpoint's own host (it is configuration, not user
 * input). Completions routinely outlast a webhook's 10 s; the step's own timeout still bounds them.
 */
function endpointPolicy(policy: OutboundPolicy, url: string | undefined): OutboundPolicy {
  if (!url) return policy;
  try {
    return policy.withAllowed([new URL(url).hostname], { timeoutMs: Math.max(policy.timeoutMs, 300_000) });
  } catch {
    return policy;
  }
}

/** Chat completion against the configured OpenAI-compatible endpoint: `{ content, usage }`. */
export function llmCall(settings: LlmSettings, outbound: OutboundPolicy): StepHandler {
  const policy = endpointPolicy(outbound, settings.llmUrl);
  return {
    effects: "external",
    async run({ params, signal }) {
      if (!settings.llmUrl) return permanent("llm_call is not configured (set ORCHESTRATION_LLM_URL)");
      if (!Array.isArray(params.messages) || params.messages.length === 0) return permanent("llm_call: `messages` (array) is required");
      const request: Record<string, unknown> = { messages: params.messages };
      for (const field of ["model", "temperature", "max_tokens"]) if (params[field] !== undefined) request[field] = params[field];
      const result = await postJson(policy, `${settings.llmUrl.replace(/\/$/, "")}/chat/completions`, request, signal, settings.llmApiKey);
      if (!("ok" in result)) return { ...result, message: `llm_call: ${(result as { message: string }).message}` } as StepOutcome;
      const json = result.json as { choices?: { message?: { content?: unknown } }[]; usage?: unknown };
      const content = json.choices?.[0]?.message?.content;
      if (typeof content !== "string") return permanent("llm_call: the response has no choices[0].message.content");
      return completed({ content, usage: isObject(json.usage) ? json.usage : {} });
    },
  };
}

/** Calls a tool of the configured tool service; its JSON answer is the output. */
export function toolCall(settings: LlmSettings, outbound: OutboundPolicy): StepHandler {
  const policy = endpointPolicy(outbound, settings.toolUrl);
  return {
    effects: "external",
    async run({ params, signal }) {
      if (!settings.toolUrl) return permanent("tool_call is not configured (set ORCHESTRATION_TOOL_URL)");
      const name = params.tool_name;
      if (typeof name !== "string" || !/^[A-Za-z0-9_.-]{1,128}$/.test(name)) return permanent("tool_call: `tool_name` is required");
      const result = await postJson(policy, `${settings.toolUrl.replace(/\/$/, "")}/tools/${encodeURIComponent(name)}`, params.arguments ?? {}, signal);
      if (!("ok" in result)) return { ...result, message: `tool_call: ${(result as { message: string }).message}` } as StepOutcome;
      return completed(isObject(result.json) ? result.json : { result: result.json });
    },
  };
}
