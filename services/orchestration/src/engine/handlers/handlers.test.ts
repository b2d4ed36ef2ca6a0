import { describe, expect, it } from "vitest";
import { OutboundPolicy } from "@cloudforet/outbound";
import { llmCall, toolCall } from "./llm";
import type { StepInvocation } from "./handler";

const invocation = (params: Record<string, unknown>) => ({ params, signal: new AbortController().signal }) as unknown as StepInvocation;

describe("llm_call and tool_call without an endpoint", () => {
  it("fail permanently with a clear message", async () => {
    expect(await llmCall({}, new OutboundPolicy()).run(invocation({ messages: [{ role: "user", content: "hi" }] }))).toEqual({ kind: "failed", message: "llm_call is not configured (set ORCHESTRATION_LLM_URL)", retryable: false });
    expect(await toolCall({}, new OutboundPolicy()).run(invocation({ tool_name: "add" }))).toEqual({ kind: "failed", message: "tool_call is not configured (set ORCHESTRATION_TOOL_URL)", retryable: false });
  });
});
