/**
 * Why an outbound request did not get an answer. Messages are safe to show to whoever asked for the
 * request: they name the host only, never a port's state, a response body or URL credentials.
 *
 * - `refused`: the policy forbids the address (the same text whatever the port, so it maps nothing);
 * - `connect`: DNS or the connection failed (generic on purpose);
 * - `timeout`: no complete answer within the deadline;
 * - `too_large`: the answer exceeded the size cap;
 * - `redirect`: too many redirects or a malformed one;
 * - `malformed`: a body in an encoding we do not inflate, or one that does not decode.
 */
export type OutboundErrorKind = "refused" | "connect" | "timeout" | "too_large" | "redirect" | "malformed";

export class OutboundError extends Error {
  readonly code = "ERR_OUTBOUND";
  constructor(
    readonly kind: OutboundErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "OutboundError";
  }

  /** Worth trying again later: the network may recover; a policy refusal or a cap will not change. */
  get retryable(): boolean {
    return this.kind === "connect" || this.kind === "timeout";
  }
}

export const refusedError = (host: string) =>
  new OutboundError("refused", `refused to connect to ${host}: the address is not allowed for outbound requests`);

export const connectError = (host: string) => new OutboundError("connect", `could not connect to ${host}`);

export function isOutboundError(err: unknown): err is OutboundError {
  return err instanceof OutboundError || (err instanceof Error && (err as { code?: string }).code === "ERR_OUTBOUND" && "kind" in err);
}
