import { create, toJson, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { Transport, UnaryResponse } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { serviceUrl, type ClientOptions } from "@cloudforet/sdk";
import { Client } from "@cloudforet/sdk/node";
import diff from "microdiff";

/** A call an apply made (or would have made): reads went to the server, writes were held back. */
export interface RecordedCall {
  kind: "read" | "write";
  service: string;
  method: string;
  /** The request (writes) or the response (reads), in the platform's JSON (snake_case). */
  json: JsonObject;
}

/** Collects the calls of one document's apply. */
export class CallRecorder {
  calls: RecordedCall[] = [];
  take(): RecordedCall[] {
    const taken = this.calls;
    this.calls = [];
    return taken;
  }
}

// AuthService.Login and Refresh change nothing a dry run must avoid: they are how it reads at all.
const ALWAYS_SENT = new Set(["cloudforet.identity.v1.AuthService"]);

/**
 * A transport that sends read RPCs (those declared `idempotency_level = NO_SIDE_EFFECTS`) and
 * answers every other call itself with an empty response, recording what would have been sent:
 * the appliers of `cfctl apply` run unchanged, and nothing on the server changes.
 */
export function dryRunTransport(real: Transport, recorder: CallRecorder): Transport {
  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      const service = method.parent.typeName;
      if (ALWAYS_SENT.has(service)) return real.unary(method, signal, timeoutMs, header, input, contextValues);
      if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) {
        const response = await real.unary(method, signal, timeoutMs, header, input, contextValues);
        recorder.calls.push({ kind: "read", service, method: method.name, json: asJson(method.output, response.message) });
        return response;
      }
      recorder.calls.push({ kind: "write", service, method: method.name, json: asJson(method.input, create(method.input, input as never)) });
      const held: UnaryResponse = { stream: false, service: method.parent, method, header: new Headers(), trailer: new Headers(), message: create(method.output) } as UnaryResponse;
      return held as never;
    },
    stream(method, signal, timeoutMs, header, input, contextValues) {
      return real.stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };
}

function asJson(schema: DescMessage, message: unknown): JsonObject {
  return toJson(schema, message as never, { useProtoFieldName: true }) as JsonObject;
}

/** A client whose writes are held back and recorded (reads go to the server over gRPC). */
export function dryRunClient(options: ClientOptions, recorder: CallRecorder): Client {
  const transports = new Map<string, Transport>();
  return new Client({
    ...options,
    transport: (name) => {
      let transport = transports.get(name);
      if (!transport) {
        transport = dryRunTransport(createGrpcTransport({ baseUrl: serviceUrl(options, name), defaultTimeoutMs: options.timeoutMs }), recorder);
        transports.set(name, transport);
      }
      return transport;
    },
  });
}

// Fields whose values are never printed (a secret's value; a key's plaintext).
const SECRET_FIELDS = new Set(["data", "secret_data", "value", "api_key", "password"]);
const SECRET_SERVICES = new Set(["cloudforet.identity.v1.SecretService"]);

/**
 * The field-level differences a document's held-back writes would make, as lines:
 *   + field: value        (a create: every field it sets)
 *   ~ field: old → new    (an update: each field that differs from what the server holds)
 *   - field: old          (a removed tag)
 * Secret values show as "(changed)", never in clear.
 */
export function describeChanges(calls: RecordedCall[]): string[] {
  const lines: string[] = [];
  for (const [index, call] of calls.entries()) {
    if (call.kind !== "write") continue;
    const hidden = (field: string) => SECRET_SERVICES.has(call.service) && SECRET_FIELDS.has(field.split(".")[0]);
    const show = (field: string, value: JsonValue | undefined) => (hidden(field) ? "(hidden)" : value === undefined ? "(none)" : JSON.stringify(value));
    if (/^(Delete|Revoke|Cancel)/.test(call.method)) {
      lines.push(`- ${call.method} ${idOf(call.json)?.[1] ?? ""}`.trimEnd());
      continue;
    }
    const before = /^Update/.test(call.method) ? currentOf(calls.slice(0, index), call) : undefined;
    if (!before) {
      for (const [field, value] of Object.entries(call.json)) lines.push(`+ ${field}: ${show(field, value)}`);
      continue;
    }
    const id = idOf(call.json)?.[0];
    for (const [field, value] of Object.entries(call.json)) {
      if (field === id) continue;
      if (field === "remove_tags" && Array.isArray(value)) {
        for (const key of value) lines.push(`- tags.${String(key)}: ${show("tags", (before.tags as JsonObject | undefined)?.[String(key)])}`);
        continue;
      }
      const old = before[field];
      if (field === "tags" && value && typeof value === "object" && !Array.isArray(value)) {
        for (const [key, tag] of Object.entries(value)) {
          const was = (old as JsonObject | undefined)?.[key];
          if (was !== tag) lines.push(`${was === undefined ? "+" : "~"} tags.${key}: ${was === undefined ? "" : `${JSON.stringify(was)} → `}${JSON.stringify(tag)}`);
        }
        continue;
      }
      if (hidden(field)) {
        lines.push(`~ ${field}: (changed)`);
        continue;
      }
      if (isObject(old) && isObject(value)) {
        // Nested mappings (plugin_info, data, options): one line per changed leaf.
        for (const change of diff(old, value)) {
          const path = [field, ...change.path].join(".");
          if (change.type === "CREATE") lines.push(`+ ${path}: ${JSON.stringify(change.value)}`);
          else if (change.type === "REMOVE") lines.push(`- ${path}: ${JSON.stringify(change.oldValue)}`);
          else lines.push(`~ ${path}: ${JSON.stringify(change.oldValue)} → ${JSON.stringify(change.value)}`);
        }
        continue;
      }
      if (JSON.stringify(old) !== JSON.stringify(value)) lines.push(`~ ${field}: ${show(field, old)} → ${show(field, value)}`);
    }
  }
  return lines;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The request's identifying field: the first `…_id`, `slug` or `id` it carries. */
function idOf(json: JsonObject): [string, JsonValue] | undefined {
  return Object.entries(json).find(([k]) => k === "id" || k === "slug" || k.endsWith("_id"));
}

/** The resource as last read before an update: the latest read of the same service naming the same id. */
function currentOf(earlier: RecordedCall[], update: RecordedCall): JsonObject | undefined {
  const id = idOf(update.json);
  const reads = earlier.filter((c) => c.kind === "read" && c.service === update.service).reverse();
  const match = reads.find((r) => id && (r.json[id[0]] === id[1] || findIn(r.json, id)));
  return match ? (findIn(match.json, id!) ?? match.json) : reads[0]?.json;
}

/** A list response: the result whose id matches. */
function findIn(json: JsonObject, [key, value]: [string, JsonValue]): JsonObject | undefined {
  if (json[key] === value) return json;
  for (const v of Object.values(json)) {
    if (Array.isArray(v)) for (const item of v) if (isObject(item) && item[key] === value) return item;
  }
  return undefined;
}
