import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Logger } from "pino";

/** The request id of the call (`x-request-id`, generated when the caller sent none). */
export const requestIdKey = createContextKey<string>("", { description: "x-request-id" });

/**
 * The call's logger, bound to its request id and method: made on first use (most calls never log
 * but their one "rpc" line, which needs no child logger), then kept.
 */
export const requestLoggerKey = createContextKey<(() => Logger) | undefined>(undefined, { description: "request logger" });

export const requestIdOf = (ctx: HandlerContext): string => ctx.values.get(requestIdKey);

/** The call's logger; falls back to `fallback` outside a request. */
export function loggerOf(ctx: HandlerContext, fallback: Logger): Logger {
  return ctx.values.get(requestLoggerKey)?.() ?? fallback;
}
