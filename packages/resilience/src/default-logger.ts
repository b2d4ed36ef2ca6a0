import { pino, type Logger } from "pino";

let logger: Logger | undefined;

/** The logger used when a caller passes none: pino JSON at LOG_LEVEL (default info). */
export function defaultLogger(): Logger {
  logger ??= pino({ name: "resilience", level: process.env.LOG_LEVEL ?? "info" });
  return logger;
}
