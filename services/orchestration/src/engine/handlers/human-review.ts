import { completed, isObject, permanent, type StepHandler } from "./handler";

/** The custom signal that answers a pending review: `custom:human_review` with `{ approved, reviewer, comments, block_id? }`. */
export const HUMAN_REVIEW_SIGNAL = "custom:human_review";

/**
 * Waits for a reviewer's answer, sent as the signal `custom:human_review` (its payload may name the
 * step in `block_id` when several reviews are pending). With `timeout_ms`, an unanswered review
 * is handed to `escalation_handler`, or fails when there is none.
 */
export const humanReview: StepHandler = {
  effects: "pure",
  async run({ params, data, now }) {
    if (isObject(data.review)) {
      const review = data.review;
      return completed({
        approved: review.approved === true,
        reviewer: typeof review.reviewer === "string" ? review.reviewer : null,
        comments: typeof review.comments === "string" ? review.comments : null,
      });
    }
    const timeout = params.timeout_ms === undefined ? undefined : Number(params.timeout_ms);
    if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) return permanent("human_review: timeout_ms must be a positive number");
    const since = typeof data.since === "number" ? data.since : now;
    const deadline = timeout === undefined ? undefined : since + timeout;
    if (deadline !== undefined && now >= deadline) {
      if (typeof params.escalation_handler === "string" && params.escalation_handler !== "") return { kind: "escalate", handler: params.escalation_handler };
      return permanent(`human_review timed out after ${timeout} ms`);
    }
    return { kind: "suspended", data: { since, review_pending: true, prompt: params.prompt ?? null }, until: deadline, external: true };
  },
};
