import { mkdirSync } from "node:fs";
import path from "node:path";
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

/**
 * One JSON line per event, with the service name on every line. With `CLOUDFORET_LOG_CAPTURE`
 * set to a directory (the test suite sets it for its secrets sweep), every line at info or above
 * is also written to `<dir>/logs-<pid>.jsonl`, whatever the configured level, so that what a
 * service would log in production is checked even when a test silences it.
 */
export function createLogger(service: string, level: LevelWithSilent = "info", destination?: pino.DestinationStream): Logger {
  const options = {
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactedPaths, censor: "[redacted]" },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const capture = logCapture();
  if (!capture) return pino({ ...options, level }, destination);
  const streams: pino.StreamEntry[] = [{ level: "info", stream: capture }];
  if (level !== "silent") streams.push({ level, stream: destination ?? pino.destination(1) });
  const lowest = level === "silent" || pino.levels.values[level] > pino.levels.values.info ? "info" : level;
  return pino({ ...options, level: lowest }, pino.multistream(streams));
}

let captured: { dir: string; stream: pino.DestinationStream } | undefined;

/** The process's one capture file (every logger of the process appends to it), if capture is on. */
function logCapture(): pino.DestinationStream | undefined {
  const dir = process.env.CLOUDFORET_LOG_CAPTURE;
  if (!dir) return undefined;
  if (captured?.dir !== dir) {
    mkdirSync(dir, { recursive: true });
    // Synchronous, so lines written just before a process exits are not lost.
    captured = { dir, stream: pino.destination({ dest: path.join(dir, `logs-${process.pid}.jsonl`), sync: true }) };
  }
  return captured.stream;
}
