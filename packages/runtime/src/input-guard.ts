import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { invalidParameter } from "@cloudforet/errors";

/** Bounds every request must respect, whatever the service does with it. */
export const INPUT_LIMITS = {
  /** Nesting of messages, Structs and lists below the request (JSON-ish data is refused past it). */
  maxDepth: 64,
  /** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what RFC 3339 and Postgres both hold. */
  minTimestampSeconds: -62_135_596_800n,
  maxTimestampSeconds: 253_402_300_799n,
  /** ±10,000 years, the range google.protobuf.Duration allows. */
  maxDurationSeconds: 315_576_000_000n,
} as const;

/**
 * RPCs whose contract reports a bad row and stores the others (partial success): their rows
 * (repeated messages of the request or of each stream message) are left to the handler, which
 * refuses one row alone. The rest of those requests is checked as usual.
 */
export const PER_ITEM_BATCH_RPCS: ReadonlySet<string> = new Set([
  "cloudforet.cost.v1.CostService/BatchCreate",
  "cloudforet.monitoring.v1.MetricService/PushBatch",
  "cloudforet.monitoring.v1.MetricService/Ingest",
  "cloudforet.cloud_service.v1.CloudServiceService/BatchUpsert",
]);

/** What is wrong with a request, and where (`options.region`, `steps[0].params.url`). */
export interface InputProblem {
  parameter: string;
  problem: string;
}

/** Unpaired UTF-16 halves: with the `u` flag, \p{Cs} matches only surrogates that are not part of a pair. */
const hostileText = /[\u0000\p{Cs}]/u;

/** Postgres text holds neither U+0000 nor lone surrogates (UTF-8 cannot encode them). */
export function textProblem(text: string): string | undefined {
  if (!hostileText.test(text)) return undefined;
  return text.includes("\u0000") ? "holds a NUL character" : "holds broken UTF-16 (a lone surrogate)";
}

const INT64 = new Set([ScalarType.INT64, ScalarType.SINT64, ScalarType.SFIXED64, ScalarType.UINT64, ScalarType.FIXED64]);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function scalarProblem(scalar: ScalarType, value: unknown): string | undefined {
  if (typeof value === "string") return scalar === ScalarType.STRING ? textProblem(value) : int64Problem(scalar, value);
  if (typeof value === "bigint") return int64Problem(scalar, value);
  return undefined;
}

/** 64-bit integers end up as JS numbers and SQL offsets: beyond 2^53 they lose digits or overflow. */
function int64Problem(scalar: ScalarType, value: string | bigint): string | undefined {
  if (!INT64.has(scalar)) return undefined;
  let n: bigint;
  try {
    n = BigInt(value);
  } catch {
    return "is not an integer";
  }
  return n > MAX_SAFE || n < -MAX_SAFE ? `is out of range (at most ${Number.MAX_SAFE_INTEGER} in magnitude)` : undefined;
}

type Pending =
  | { kind: "message"; value: unknown; desc: DescMessage; path: string; depth: number }
  /** Struct, Value and ListValue fields arrive as plain JSON (protobuf-es unboxes them). */
  | { kind: "json"; value: unknown; path: string; depth: number };

const JSON_TYPES = new Set(["google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"]);
const join = (path: string, segment: string) => (path === "" ? segment : `${path}.${segment}`);
const isMessage = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && "$typeName" in value;

function fieldValue(message: Record<string, unknown>, field: DescField): unknown {
  if (field.oneof) {
    const chosen = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
    return chosen?.case === field.localName ? chosen.value : undefined;
  }
  return message[field.localName];
}

function wellKnownProblem(value: Record<string, unknown>, desc: DescMessage): string | undefined {
  const seconds = typeof value.seconds === "bigint" ? value.seconds : BigInt(String(value.seconds ?? 0));
  const nanos = Number(value.nanos ?? 0);
  if (desc.typeName === "google.protobuf.Timestamp") {
    if (seconds < INPUT_LIMITS.minTimestampSeconds || seconds > INPUT_LIMITS.maxTimestampSeconds || nanos < 0 || nanos > 999_999_999) {
      return "is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z";
    }
  } else if (seconds > INPUT_LIMITS.maxDurationSeconds || seconds < -INPUT_LIMITS.maxDurationSeconds || Math.abs(nanos) > 999_999_999) {
    return "is outside ±10,000 years";
  }
  return undefined;
}

/**
 * What to do with one value of a message-typed field: walk it (a message, or JSON for Struct and
 * friends), or check it as the scalar an unboxed wrapper (StringValue, Int64Value…) holds.
 */
function messageChild(value: unknown, desc: DescMessage, path: string, depth: number): Pending | string | undefined {
  if (isMessage(value)) return { kind: "message", value, desc, path, depth };
  if (JSON_TYPES.has(desc.typeName)) return { kind: "json", value, path, depth };
  const wrapped = desc.fields[0];
  if (desc.typeName.startsWith("google.protobuf.") && wrapped?.fieldKind === "scalar") return scalarProblem(wrapped.scalar, value);
  return undefined;
}

/**
 * The first problem of a request message, walking all of it — nested messages, lists, maps,
 * Struct/Value/ListValue — with an explicit stack, so a deeply nested request cannot overflow
 * ours. `skipRows` leaves the repeated message fields of the top level to the handler.
 */
export function findInputProblem(message: object, desc: DescMessage, options: { skipRows?: boolean } = {}): InputProblem | undefined {
  const stack: Pending[] = [{ kind: "message", value: message, desc, path: "", depth: 0 }];
  while (stack.length > 0) {
    const pending = stack.pop()!;
    const { value, path, depth } = pending;
    if (typeof value === "string") {
      const problem = textProblem(value);
      if (problem) return { parameter: path, problem };
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    const level = depth + 1;
    if (level > INPUT_LIMITS.maxDepth + 1) return { parameter: path || "request", problem: `is nested deeper than ${INPUT_LIMITS.maxDepth} levels` };
    const children: Pending[] = [];
    const add = (child: Pending | string | undefined, at: string): InputProblem | undefined => {
      if (typeof child === "string") return { parameter: at, problem: child };
      if (child) children.push(child);
      return undefined;
    };
    if (pending.kind === "json") {
      if (Array.isArray(value)) {
        value.forEach((item, i) => children.push({ kind: "json", value: item, path: `${path}[${i}]`, depth: level }));
      } else {
        for (const [key, item] of Object.entries(value)) {
          const keyProblem = textProblem(key);
          // A hostile key is named by its object: the key itself is what cannot be echoed back.
          if (keyProblem) return { parameter: path, problem: `has a key that ${keyProblem}` };
          children.push({ kind: "json", value: item, path: join(path, key), depth: level });
        }
      }
    } else {
      const type = pending.desc;
      const record = value as Record<string, unknown>;
      if (type.typeName === "google.protobuf.Timestamp" || type.typeName === "google.protobuf.Duration") {
        const problem = wellKnownProblem(record, type);
        if (problem) return { parameter: path, problem };
        continue;
      }
      for (const field of type.fields) {
        const item = fieldValue(record, field);
        if (item === undefined || item === null) continue;
        const here = join(path, field.name);
        let problem: InputProblem | undefined;
        switch (field.fieldKind) {
          case "scalar": {
            const text = scalarProblem(field.scalar, item);
            if (text) problem = { parameter: here, problem: text };
            break;
          }
          case "message":
            problem = add(messageChild(item, field.message, here, level), here);
            break;
          case "list": {
            if (options.skipRows && depth === 0 && field.listKind === "message") break;
            const list = item as unknown[];
            for (let i = 0; i < list.length && !problem; i++) {
              const at = `${here}[${i}]`;
              if (field.listKind === "scalar") {
                const text = scalarProblem(field.scalar, list[i]);
                if (text) problem = { parameter: at, problem: text };
              } else if (field.listKind === "message") problem = add(messageChild(list[i], field.message, at, level), at);
            }
            break;
          }
          case "map":
            for (const [key, entry] of Object.entries(item as Record<string, unknown>)) {
              const keyProblem = textProblem(key);
              if (keyProblem) {
                problem = { parameter: here, problem: `has a key that ${keyProblem}` };
                break;
              }
              const at = join(here, key);
              if (field.mapKind === "scalar") {
                const text = scalarProblem(field.scalar, entry);
                if (text) problem = { parameter: at, problem: text };
              } else if (field.mapKind === "message") problem = add(messageChild(entry, field.message, at, level), at);
              if (problem) break;
            }
            break;
        }
        if (problem) return problem;
      }
    }
    // Reversed, so the first field's problems are found first.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return undefined;
}

function refuse(problem: InputProblem): never {
  throw invalidParameter(`${problem.parameter} ${problem.problem}`, { parameter: problem.parameter });
}

/**
 * Bad input is INVALID_ARGUMENT naming the field (SPEC §3), before any handler takes it to SQL:
 * NUL and lone surrogates in any string or map key, JSON nested too deeply, times outside
 * 0001..9999, 64-bit integers beyond 2^53. Unary requests and each message of a stream are
 * checked; the rows of the per-item batch RPCs are left to their handlers.
 */
export function inputGuardInterceptor(perItemBatches: ReadonlySet<string> = PER_ITEM_BATCH_RPCS): Interceptor {
  return (next) => async (req) => {
    const desc = req.method.input;
    const skipRows = perItemBatches.has(`${req.service.typeName}/${req.method.name}`);
    if (!req.stream) {
      const problem = findInputProblem(req.message, desc, { skipRows });
      if (problem) refuse(problem);
      return next(req);
    }
    const messages = req.message;
    async function* guarded() {
      for await (const message of messages) {
        const problem = findInputProblem(message, desc, { skipRows });
        if (problem) refuse(problem);
        yield message;
      }
    }
    return next({ ...req, message: guarded() });
  };
}
