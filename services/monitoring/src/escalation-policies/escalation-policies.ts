import { invalidParameter } from "@cloudforet/errors";
import type { EscalationStep } from "../db/schema";
import { channelList } from "../alerts/alert-fields";

export const MAX_STEPS = 20;
export const MAX_REPEAT = 100;
const MAX_WAIT_SECONDS = 86_400;

/** Checks a policy's steps (ERROR_INVALID_PARAMETER naming `steps[i]…`). */
export function validateSteps(steps: readonly { channels: string[]; waitSeconds: number }[]): EscalationStep[] {
  if (steps.length === 0) throw invalidParameter("steps must hold 1 to 20 steps", { parameter: "steps" });
  if (steps.length > MAX_STEPS) throw invalidParameter("steps must hold 1 to 20 steps", { parameter: "steps", value: steps.length });
  return steps.map((step, i) => {
    if (step.channels.length === 0) throw invalidParameter("each step needs at least one channel", { parameter: `steps[${i}].channels` });
    if (!Number.isInteger(step.waitSeconds) || step.waitSeconds < 0 || step.waitSeconds > MAX_WAIT_SECONDS) {
      throw invalidParameter("wait_seconds must be 0 to 86400", { parameter: `steps[${i}].wait_seconds`, value: step.waitSeconds });
    }
    return { channels: channelList(step.channels, `steps[${i}].channels`), wait_seconds: i === 0 ? 0 : step.waitSeconds };
  });
}

export function validateRepeat(repeatCount: number): number {
  if (!Number.isInteger(repeatCount) || repeatCount < 0 || repeatCount > MAX_REPEAT) {
    throw invalidParameter("repeat_count must be 0 to 100", { parameter: "repeat_count", value: repeatCount });
  }
  return repeatCount;
}

/**
 * The `n`-th notification of a policy (1-based, counting repeats): its step, or undefined once the
 * policy (and its repeats) is exhausted. The wait before it is its step's (the first step of a
 * repeat waits as long as the policy's second step would have, or 0 for a one-step policy).
 */
export function escalationStep(steps: readonly EscalationStep[], repeatCount: number, n: number): { step: EscalationStep; index: number; waitSeconds: number } | undefined {
  if (n < 1 || n > steps.length * (repeatCount + 1)) return undefined;
  const index = (n - 1) % steps.length;
  const step = steps[index];
  const waitSeconds = index === 0 ? (n === 1 ? 0 : (steps[1]?.wait_seconds ?? 0)) : step.wait_seconds;
  return { step, index, waitSeconds };
}
