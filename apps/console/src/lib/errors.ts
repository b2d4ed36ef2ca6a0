import { decodeError, type DecodedError } from "@cloudforet/errors";

/** A failed call as an operator reads it: what failed, why, what to do. */
export interface ErrorExplanation {
  title: string;
  detail: string;
  action: string;
  code: string;
  requestId?: string;
}

const ADVICE: Record<string, { title: string; action: string }> = {
  ERROR_INVALID_PARAMETER: { title: "The request was refused as invalid", action: "Check the highlighted field or filter and try again." },
  ERROR_AUTHENTICATE_FAILURE: { title: "You are not signed in", action: "Sign in again; the session may have expired or the password changed." },
  ERROR_PERMISSION_DENIED: { title: "Your role does not allow this", action: "Ask a domain administrator for a role in this workspace." },
  ERROR_NOT_FOUND: { title: "It does not exist (any more)", action: "It may have been deleted; go back to the list and refresh." },
  ERROR_CONFLICT: { title: "It conflicts with the current state", action: "Refresh to see the latest state; the name may be taken or the change no longer allowed." },
  ERROR_PAYLOAD_TOO_LARGE: { title: "The request is too large", action: "Send less data at once." },
  ERROR_RATE_LIMITED: { title: "Too many attempts", action: "Wait a moment before trying again." },
  ERROR_SERVICE_UNAVAILABLE: { title: "The service is unavailable", action: "It is probably restarting; try again in a few seconds." },
  ERROR_TIMEOUT: { title: "The service took too long", action: "Try again; narrow the query if it keeps happening." },
  ERROR_UNKNOWN: { title: "The service failed unexpectedly", action: "Try again; if it persists, report the request id below." },
};

export function explainError(err: unknown, what?: string): ErrorExplanation {
  const decoded: DecodedError = decodeError(err);
  const advice = ADVICE[decoded.code] ?? ADVICE.ERROR_UNKNOWN;
  const params = Object.entries(decoded.metadata)
    .filter(([k]) => k !== "request_id")
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  let action = advice.action;
  if (decoded.retryAfterMs !== undefined) action = `Wait ${Math.ceil(decoded.retryAfterMs / 1000)} s before trying again.`;
  return {
    title: what ? `${what}: ${advice.title.charAt(0).toLowerCase()}${advice.title.slice(1)}` : advice.title,
    detail: [decoded.message, params && `(${params})`].filter(Boolean).join(" "),
    action,
    code: decoded.code,
    requestId: decoded.requestId,
  };
}

export function isUnauthenticated(err: unknown): boolean {
  return decodeError(err).code === "ERROR_AUTHENTICATE_FAILURE";
}
