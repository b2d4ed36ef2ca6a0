import { isConnectionError } from "@cloudforet/db";
import { PlatformError } from "@cloudforet/errors";
import { isUuid } from "../../ids";
import type { InstanceRepository } from "../../instances/repository";
import { TERMINAL_STATES, type InstanceState } from "../../instances/rules";
import { enqueueSignal } from "../../signals/repository";
import type { Triggers } from "../../triggers/triggers";
import { completed, isObject, permanent, retryable, type StepHandler, type StepOutcome } from "./handler";

/** Storage trouble is worth retrying; anything else a coordination handler meets is permanent. */
function failure(err: unknown, handler: string): StepOutcome {
  if (err instanceof PlatformError) return permanent(`${handler}: ${err.message}`);
  if (isConnectionError(err)) return retryable(`${handler}: storage unavailable: ${(err as Error).message}`);
  throw err;
}

/** Fires an event trigger of the caller's tenant: a child instance, deduplicated by dedupe_key. */
export function emitEvent(triggers: Triggers): StepHandler {
  return {
    effects: "transactional",
    wakesInstances: true,
    async run({ params, instance, tx }) {
      const { trigger_slug: slug, data, meta, dedupe_key: dedupeKey, dedupe_scope: dedupeScope } = params;
      if (typeof slug !== "string" || slug === "") return permanent("emit_event: `trigger_slug` is required");
      if (dedupeKey !== undefined && (typeof dedupeKey !== "string" || dedupeKey === "")) return permanent("emit_event: `dedupe_key` must be a non-empty string");
      if (dedupeScope !== undefined && dedupeScope !== "parent" && dedupeScope !== "tenant") return permanent('emit_event: `dedupe_scope` must be "parent" or "tenant"');
      if (data !== undefined && data !== null && !isObject(data)) return permanent("emit_event: `data` must be an object");
      if (meta !== undefined && meta !== null && !isObject(meta)) return permanent("emit_event: `meta` must be an object");
      try {
        const fired = await triggers.fire(
          {
            domainId: instance.domainId,
            tenantId: instance.tenantId,
            slug,
            data: (data as Record<string, unknown> | undefined) ?? {},
            meta: (meta as Record<string, unknown> | undefined) ?? {},
            dedupeKey: dedupeKey as string | undefined,
            dedupeScope: (dedupeScope as string | undefined) ?? "parent",
            parentInstanceId: instance.id,
          },
          tx!,
        );
        return completed({ instance_id: fired.instanceId, sequence_name: fired.sequenceName, deduped: fired.deduped });
      } catch (err) {
        return failure(err, "emit_event");
      }
    },
  };
}

const BASIC_SIGNALS = new Set(["pause", "resume", "cancel", "update_context"]);

/** Enqueues a signal on another (non-terminal) instance of the same tenant. */
export function sendSignal(instances: InstanceRepository): StepHandler {
  return {
    effects: "transactional",
    wakesInstances: true,
    async run({ params, instance, tx }) {
      const { instance_id: targetId, signal_type: signalType, payload } = params;
      if (!isUuid(targetId)) return permanent("send_signal: `instance_id` must be a UUID");
      let type: string | undefined;
      if (typeof signalType === "string" && (BASIC_SIGNALS.has(signalType) || /^custom:[A-Za-z0-9_.:-]{1,128}$/.test(signalType))) type = signalType;
      else if (isObject(signalType) && typeof signalType.custom === "string" && /^[A-Za-z0-9_.:-]{1,128}$/.test(signalType.custom)) type = `custom:${signalType.custom}`;
      if (!type) return permanent('send_signal: `signal_type` must be "pause", "resume", "cancel", "update_context" or { "custom": "<name>" }');
      if (type === "update_context" && !isObject(payload)) return permanent("send_signal: the payload of update_context must be an object");
      try {
        const target = await instances.getById(targetId.toLowerCase(), tx!, { forUpdate: true });
        if (!target) return permanent(`send_signal: instance ${targetId} not found`);
        if (target.domainId !== instance.domainId || target.tenantId !== instance.tenantId) return permanent(`send_signal: instance ${targetId} belongs to another tenant`);
        if (TERMINAL_STATES.includes(target.state as InstanceState)) return permanent(`send_signal: instance ${targetId} is ${target.state}`);
        const signalId = await enqueueSignal(tx!, target.id, type, payload ?? null);
        await instances.markNeedsAttention(target.id, tx!);
        return completed({ signal_id: signalId });
      } catch (err) {
        return failure(err, "send_signal");
      }
    },
  };
}

/** Reads another instance of the same tenant: `{ found: false }` when absent, a permanent error across tenants. */
export function queryInstance(instances: InstanceRepository): StepHandler {
  return {
    effects: "pure",
    async run({ params, instance }) {
      const targetId = params.instance_id;
      if (!isUuid(targetId)) return permanent("query_instance: `instance_id` must be a UUID");
      try {
        const target = await instances.getById(targetId.toLowerCase());
        if (!target) return completed({ found: false });
        if (target.domainId !== instance.domainId || target.tenantId !== instance.tenantId) return permanent(`query_instance: instance ${targetId} belongs to another tenant`);
        return completed({
          found: true,
          state: target.state,
          context: target.context,
          created_at: target.createdAt.toISOString(),
          updated_at: target.updatedAt.toISOString(),
        });
      } catch (err) {
        return failure(err, "query_instance");
      }
    },
  };
}
