import { pino, type Logger } from "pino";

/** The collector's pino logger at `level` (default LOG_LEVEL, else info). */
export function createLogger(level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name: "collector-nutanix", level });
}
