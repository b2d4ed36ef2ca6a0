import { mkdirSync } from "node:fs";
import path from "node:path";
import { pino, type Logger, type LevelWithSilent } from "pino";
import { createRequire } from "node:module";
import type PinoPretty from "pino-pretty";
import { context, trace } from "@opentelemetry/api";
import { activeTracer } from "./tracing/sdk";

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
 * The active span's ids on every line logged inside one (an RPC, an event handler), so a log line
 * leads to its trace. Without tracing this is one variable read per line.
 */
function traceFields(): Record<string, string> {
  if (!activeTracer()) return {};
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/**
 * Where lines go by default: pretty, colourised text for a person at a terminal (pino-pretty, in
 * process and synchronous, so nothing is lost at exit), one JSON object per line otherwise (a
 * collector, a pipe, a file) or whenever LOG_FORMAT=json. LOG_FORMAT=pretty forces text.
 */
function defaultDestination(): pino.DestinationStream {
  const format = process.env.LOG_FORMAT?.trim().toLowerCase();
  const wantsPretty = format === "pretty" || (format !== "json" && process.stdout.isTTY === true);
  if (!wantsPretty) return pino.destination(1);
  // Loaded only for a terminal: production (JSON) does not pay for it.
  const pretty = createRequire(import.meta.url)("pino-pretty") as typeof PinoPretty;
  return pretty({ colorize: process.stdout.isTTY === true, sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service", messageFormat: "{service} {msg}" });
}

/**
 * One line per event (JSON, or pretty text at a terminal), with the service name on every line. With `CLOUDFORET_LOG_CAPTURE`
 * set to a directory (the test suite sets it for its secrets sweep), every line at info or above
 * is also written to `<dir>/logs-<pid>.jsonl`, whatever the configured level, so that what a
 * service would log in production is checked even when a test silences it.
 */
export function createLogger(service: string, level: LevelWithSilent = "info", destination?: pino.DestinationStream): Logger {
  const options = {
    base: { service },
    timestamp: isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: traceFields,
  };
  const redact = { paths: redactedPaths, censor: "[redacted]" };
  const capture = logCapture();
  let made: { level: LevelWithSilent; stream: pino.DestinationStream | undefined };
  if (!capture) made = { level, stream: destination ?? (level === "silent" ? undefined : defaultDestination()) };
  else {
    const streams: pino.StreamEntry[] = [{ level: "info", stream: capture }];
    if (level !== "silent") streams.push({ level, stream: destination ?? defaultDestination() });
    const lowest = level === "silent" || pino.levels.values[level] > pino.levels.values.info ? "info" : level;
    made = { level: lowest, stream: pino.multistream(streams) };
  }
  const logger = pino({ ...options, redact, level: made.level }, made.stream);
  fixedFieldLoggers.set(logger, pino({ ...options, level: made.level }, made.stream));
  return logger;
}

const fixedFieldLoggers = new WeakMap<Logger, Logger>();

/**
 * The logger for lines whose fields are fixed by the runtime and hold no secret by construction
 * (the "rpc" line of every call: request id, method, code, duration, error message): the same
 * destination, level and fields as `logger`, without the redaction pass, which looks for secret
 * keys these lines never have and was a fifth of the line's cost. `logger` itself when it was not
 * made by createLogger.
 */
export function fixedFieldLogger(logger: Logger): Logger {
  return fixedFieldLoggers.get(logger) ?? logger;
}

/**
 * pino's `isoTime` field (`,"time":"2026-12-08T03:08:53.123Z"`), formatting the date once per
 * second instead of once per line: `toISOString` was the costliest step of a line after the JSON.
 */
function isoTime(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== clock.second) clock = { second, prefix: `,"time":"${new Date(second * 1000).toISOString().slice(0, 20)}` };
  return `${clock.prefix}${String(now - second * 1000).padStart(3, "0")}Z"`;
}

let clock = { second: NaN, prefix: "" };

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
