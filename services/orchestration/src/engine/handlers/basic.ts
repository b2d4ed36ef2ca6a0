import type { Logger } from "pino";
import { completed, permanent, retryable, type StepHandler } from "./handler";

/** Sleeps shorter than this run in the engine; longer ones park the instance on a durable timer. */
const IN_PROCESS_SLEEP_MS = 1_000;

export const noop: StepHandler = { effects: "pure", run: async () => completed({}) };

export function logHandler(logger: Logger): StepHandler {
  return {
    effects: "pure",
    async run({ params, instance, blockId }) {
      const message = params.message === undefined ? "no message" : params.message;
      const level = params.level === "debug" || params.level === "warn" ? params.level : "info";
      logger[level]({ instance_id: instance.id, block_id: blockId, message }, "log step");
      return completed({ message });
    },
  };
}

export const sleep: StepHandler = {
  effects: "pure",
  async run({ params, data, now, signal }) {
    const duration = params.duration_ms === undefined ? 100 : Number(params.duration_ms);
    if (!Number.isFinite(duration) || duration < 0) return permanent("sleep: duration_ms must be a number ≥ 0");
    if (typeof data.wake_at === "number") {
      return now >= data.wake_at ? completed({ slept_ms: duration }) : { kind: "suspended", data, until: data.wake_at, external: false };
    }
    if (duration > IN_PROCESS_SLEEP_MS) return { kind: "suspended", data: { wake_at: now + duration }, until: now + duration, external: false };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, duration);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return completed({ slept_ms: duration });
  },
};

export const fail: StepHandler = {
  effects: "pure",
  async run({ params }) {
    const message = typeof params.message === "string" && params.message !== "" ? params.message : "forced failure";
    return params.retryable === true ? retryable(message) : permanent(message);
  },
};
