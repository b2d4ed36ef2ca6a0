import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { CliError } from "../cli-error";
import type { ApplyDocument } from "./documents";

/** Reads typed fields of a document, naming the document and field in every refusal. */
export class Fields {
  constructor(
    private readonly doc: ApplyDocument,
    private readonly object: JsonObject,
    private readonly prefix: string,
  ) {}

  private refuse(field: string, message: string): never {
    throw new CliError("ERROR_INVALID_PARAMETER", `${this.doc.source}: ${this.doc.kind} ${this.doc.metadata.name}: ${this.prefix}${field} ${message}`);
  }

  string(field: string): string | undefined {
    const value = this.object[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") this.refuse(field, "must be a string");
    return value;
  }

  requiredString(field: string): string {
    return this.string(field) ?? this.refuse(field, "is required");
  }

  boolean(field: string): boolean | undefined {
    const value = this.object[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") this.refuse(field, "must be true or false");
    return value;
  }

  mapping(field: string): JsonObject | undefined {
    const value = this.object[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) this.refuse(field, "must be a mapping");
    return value as JsonObject;
  }

  array(field: string): JsonValue[] | undefined {
    const value = this.object[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) this.refuse(field, "must be a list");
    return value;
  }

  /** A mapping of strings, such as `tags`. */
  labels(field: string): Record<string, string> | undefined {
    const value = this.mapping(field);
    if (!value) return undefined;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : this.refuse(`${field}.${k}`, "must be a string")]));
  }
}

/** The fields of `spec`, falling back to `metadata` for the scoping ones (`workspace_id`). */
export function specOf(doc: ApplyDocument): Fields {
  return new Fields(doc, { ...pick(doc.metadata, ["workspace_id", "namespace", "tags"]), ...doc.spec }, "spec.");
}

function pick(object: JsonObject, keys: string[]): JsonObject {
  return Object.fromEntries(keys.filter((k) => object[k] !== undefined).map((k) => [k, object[k]]));
}
