import type { OutboundPolicy } from "@cloudforet/outbound";
import type { Logger } from "pino";
import type { InstanceRepository } from "../../instances/repository";
import type { Triggers } from "../../triggers/triggers";
import type { WorkerTaskRepository } from "../../workers/repository";
import { fail, logHandler, noop, sleep } from "./basic";
import { emitEvent, queryInstance, sendSignal } from "./coordination";
import { externalWorker } from "./external-worker";
import type { StepHandler } from "./handler";
import { httpRequest } from "./http-request";
import { humanReview } from "./human-review";
import { llmCall, toolCall, type LlmSettings } from "./llm";
import { selfModify } from "./self-modify";
import { assert, deleteState, getState, mergeState, setState, transform } from "./state";
import { SUB_SEQUENCE_HANDLER } from "../interpreter";
import { subSequence } from "./sub-sequence";

export interface HandlerRegistry {
  /** The built-in handler of that name, or the external worker queue for any other name. */
  resolve(name: string): StepHandler;
  isBuiltin(name: string): boolean;
}

export interface RegistryDependencies {
  logger: Logger;
  instances: InstanceRepository;
  triggers: Triggers;
  tasks: WorkerTaskRepository;
  llm: LlmSettings;
  /** What http_request, llm_call and tool_call may reach (CLOUDFORET_OUTBOUND_*). */
  outbound: OutboundPolicy;
  /** More built-ins by name (recurrent_request). */
  extra?: Record<string, StepHandler>;
  /**
   * Wrappers of the built-ins, innermost first: `credentials://` references resolved
   * (credentials/credential-references.ts), per-tenant circuit breakers (breakers/handler-breakers.ts).
   */
  guards?: Array<{ guard(name: string, handler: StepHandler): StepHandler }>;
}

/** The seed's built-in handlers; every other name is dispatched to external workers. */
export function createHandlerRegistry(deps: RegistryDependencies): HandlerRegistry {
  const builtins = new Map<string, StepHandler>([
    ["noop", noop],
    ["log", logHandler(deps.logger)],
    ["sleep", sleep],
    ["fail", fail],
    ["http_request", httpRequest(deps.outbound)],
    ["llm_call", llmCall(deps.llm, deps.outbound)],
    ["tool_call", toolCall(deps.llm, deps.outbound)],
    ["human_review", humanReview],
    ["self_modify", selfModify],
    ["emit_event", emitEvent(deps.triggers)],
    ["send_signal", sendSignal(deps.instances)],
    ["query_instance", queryInstance(deps.instances)],
    ["set_state", setState],
    ["get_state", getState],
    ["delete_state", deleteState],
    ["merge_state", mergeState],
    ["transform", transform],
    ["assert", assert],
    [SUB_SEQUENCE_HANDLER, subSequence],
    ...Object.entries(deps.extra ?? {}),
  ]);
  const external = externalWorker(deps.tasks);
  return {
    resolve: (name) => {
      const builtin = builtins.get(name);
      if (!builtin) return external;
      return (deps.guards ?? []).reduce((handler, wrapper) => wrapper.guard(name, handler), builtin);
    },
    isBuiltin: (name) => builtins.has(name),
  };
}
