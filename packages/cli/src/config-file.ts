import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import YAML from "yaml";
import type { ServiceName } from "@cloudforet/sdk";
import { CliError } from "./cli-error";

/**
 * What `cfctl login` remembers of one platform (one context), in `~/.config/cfctl/config.yaml`
 * (CFCTL_CONFIG overrides the path), readable by its owner only (mode 0600) since it holds a credential.
 */
export interface CfctlConfig {
  /** Base URL: every service on its standard port (50051–50057) of this host. */
  url?: string;
  /** Per-service URLs, winning over `url`. */
  endpoints?: Partial<Record<ServiceName, string>>;
  domain_id?: string;
  user_id?: string;
  /** The API key cfctl logs in with (a key made by `cfctl login` with a password, or one given). */
  api_key?: string;
  /** Set when `cfctl login` created the key itself: `cfctl logout` then revokes it. */
  api_key_id?: string;
  /** A ready access token, used as is (no refresh). */
  token?: string;
  /** A file holding the API key (read on every command; `cfctl config set-context --api-key-file`). */
  api_key_file?: string;
}

/**
 * The whole file: named contexts (as kubectl's), one of them current. A file of the older
 * single-context shape (the fields of CfctlConfig at the top) reads as the context "default";
 * cfctl keeps writing that shape while "default" is the only context, and this one once there are more.
 */
export interface CfctlConfigFile {
  "current-context": string;
  contexts: Record<string, CfctlConfig>;
}

export const DEFAULT_CONTEXT = "default";

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CFCTL_CONFIG) return env.CFCTL_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "cfctl", "config.yaml");
}

/**
 * The saved configuration of one context (default: CFCTL_CONTEXT, else the file's current one);
 * empty when there is none yet. An `api_key_file` is read here.
 */
export async function readConfig(path: string, context?: string): Promise<CfctlConfig> {
  const file = await readConfigFile(path);
  const name = context || file["current-context"];
  const config = file.contexts[name];
  if (!config) {
    if (!context) return {};
    throw new CliError("ERROR_NOT_FOUND", `no context "${name}" in ${path}`, "see cfctl config get-contexts");
  }
  if (config.api_key_file && !config.api_key) {
    try {
      return { ...config, api_key: (await readFile(config.api_key_file, "utf8")).trim() };
    } catch (err) {
      throw new CliError("ERROR_INVALID_PARAMETER", `cannot read the API key file ${config.api_key_file}: ${(err as Error).message}`, "fix the path with cfctl config set-context");
    }
  }
  return config;
}

/** The whole file, contexts and all (an older single-context file as the context "default"). */
export async function readConfigFile(path: string): Promise<CfctlConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyFile();
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (err) {
    throw new CliError("ERROR_INVALID_PARAMETER", `${path} is not valid YAML: ${(err as Error).message}`, "fix or delete it, then run cfctl login");
  }
  if (parsed === null || parsed === undefined) return emptyFile();
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new CliError("ERROR_INVALID_PARAMETER", `${path} must hold a YAML mapping`, "fix or delete it, then run cfctl login");
  }
  const record = parsed as Record<string, unknown>;
  if (!("contexts" in record)) {
    // The single-context file of earlier cfctl versions: it is the context "default".
    return { "current-context": DEFAULT_CONTEXT, contexts: Object.keys(record).length > 0 ? { [DEFAULT_CONTEXT]: record as CfctlConfig } : {} };
  }
  const contexts = record.contexts ?? {};
  if (typeof contexts !== "object" || Array.isArray(contexts)) {
    throw new CliError("ERROR_INVALID_PARAMETER", `${path}: contexts must be a mapping of names to contexts`, "fix or delete it, then run cfctl login");
  }
  const current = typeof record["current-context"] === "string" ? record["current-context"] : DEFAULT_CONTEXT;
  return { "current-context": current, contexts: contexts as Record<string, CfctlConfig> };
}

function emptyFile(): CfctlConfigFile {
  return { "current-context": DEFAULT_CONTEXT, contexts: {} };
}

/** Saves one context's configuration (default: CFCTL_CONTEXT, else the current one), keeping the others. */
export async function writeConfig(path: string, config: CfctlConfig, context?: string): Promise<void> {
  const file = await readConfigFile(path);
  file.contexts[context || file["current-context"]] = config;
  await writeConfigFile(path, file);
}

/** Writes the whole file with mode 0600 (also tightening an existing file's mode). */
export async function writeConfigFile(path: string, file: CfctlConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Only the context "default": the flat shape of earlier cfctl versions, which they still read.
  const names = Object.keys(file.contexts);
  const flat = names.length === 1 && names[0] === DEFAULT_CONTEXT && file["current-context"] === DEFAULT_CONTEXT;
  const body = `# cfctl configuration, written by cfctl; holds credentials, keep it private\n${YAML.stringify(flat ? file.contexts[DEFAULT_CONTEXT] : file)}`;
  await writeFile(path, body, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function removeConfig(path: string): Promise<void> {
  await rm(path, { force: true });
}
