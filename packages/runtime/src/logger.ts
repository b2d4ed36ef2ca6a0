import { pino, type Logger, type LevelWithSilent } from "pino";

/** Paths that must never reach a log line (SPEC §4: secrets are never logged). */
const redactedPaths = [
  "password",
  "*.password",
  "token",
  "*.token",
  "refresh_token",
  "api_key",
  "*.api_key",
  "secret_data",
  "*.secret_data",
  "authorization",
  "*.authorization",
  "headers.authorization",
];

/** One JSON line per event, with the service name on every line. */
export function createLogger(service: string, level: LevelWithSilent = "info", destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactedPaths, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
