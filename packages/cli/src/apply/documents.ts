import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import YAML from "yaml";
import { CliError } from "../cli-error";

/** One object of an apply file: `kind`, `metadata.name`, and the kind's `spec`. */
export interface ApplyDocument {
  kind: string;
  metadata: { name: string } & JsonObject;
  spec: JsonObject;
  /** Where it came from (`file.yaml#2`), for messages. */
  source: string;
  /** The directory of its file: `valueFrom: { file }` paths are relative to it. */
  baseDir: string;
}

/**
 * The documents of `-f` arguments: files (multi-document YAML or JSON), directories (their
 * *.yaml, *.yml and *.json files in name order) or `-` for stdin.
 */
export async function loadDocuments(paths: string[], readStdin: () => Promise<string>, env: NodeJS.ProcessEnv): Promise<ApplyDocument[]> {
  const documents: ApplyDocument[] = [];
  for (const path of paths) {
    if (path === "-") {
      documents.push(...parseDocuments(await readStdin(), "stdin", process.cwd(), env));
      continue;
    }
    const files = await filesOf(path);
    for (const file of files) documents.push(...parseDocuments(await readFile(file, "utf8"), file, dirname(resolve(file)), env));
  }
  return documents;
}

async function filesOf(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CliError("ERROR_NOT_FOUND", `${path}: no such file or directory`);
  }
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => [".yaml", ".yml", ".json"].includes(extname(n))).sort();
  return names.map((n) => join(path, n));
}

export function parseDocuments(text: string, file: string, baseDir: string, env: NodeJS.ProcessEnv): ApplyDocument[] {
  const documents: ApplyDocument[] = [];
  YAML.parseAllDocuments(text).forEach((doc, i) => {
    const source = `${file}#${i + 1}`;
    if (doc.errors.length > 0) throw new CliError("ERROR_INVALID_PARAMETER", `${source}: ${doc.errors[0].message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return; // an empty document (a trailing ---)
    if (typeof value !== "object" || Array.isArray(value)) throw new CliError("ERROR_INVALID_PARAMETER", `${source}: a document must be a mapping with kind, metadata and spec`);
    const object = value as JsonObject;
    const metadata = object.metadata as JsonObject | undefined;
    if (typeof object.kind !== "string") throw new CliError("ERROR_INVALID_PARAMETER", `${source}: kind is missing`);
    if (!metadata || typeof metadata !== "object" || typeof metadata.name !== "string" || !metadata.name) {
      throw new CliError("ERROR_INVALID_PARAMETER", `${source}: metadata.name is missing`);
    }
    const spec = (object.spec ?? {}) as JsonObject;
    if (typeof spec !== "object" || Array.isArray(spec)) throw new CliError("ERROR_INVALID_PARAMETER", `${source}: spec must be a mapping`);
    documents.push({
      kind: object.kind,
      metadata: expandEnv(metadata, env, source) as ApplyDocument["metadata"],
      spec: expandEnv(spec, env, source) as JsonObject,
      source,
      baseDir,
    });
  });
  return documents;
}

/**
 * `${NAME}` and `${NAME:-default}` in string values, from the environment (an unset variable
 * without a default is an error), so one file serves several setups. Secrets never take
 * values this way: their values must be `valueFrom` references, which a string is not.
 */
export function expandEnv(value: JsonValue, env: NodeJS.ProcessEnv, source: string): JsonValue {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      throw new CliError("ERROR_INVALID_PARAMETER", `${source}: \${${name}} is not set`, `export ${name}=… or write \${${name}:-default}`);
    });
  }
  if (Array.isArray(value)) return value.map((v) => expandEnv(v, env, source));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, source)]));
  return value;
}
