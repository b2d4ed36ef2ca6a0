import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import YAML from "yaml";
import type { ServiceName } from "@cloudforet/sdk";
import { CliError } from "./cli-error";

/**
 * What `cfctl login` remembers, in `~/.config/cfctl/config.yaml` (CFCTL_CONFIG overrides the
 * path), readable by its owner only (mode 0600) since it holds a credential.
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
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CFCTL_CONFIG) return env.CFCTL_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "cfctl", "config.yaml");
}

/** The saved configuration; empty when there is none yet. */
export async function readConfig(path: string): Promise<CfctlConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (err) {
    throw new CliError("ERROR_INVALID_PARAMETER", `${path} is not valid YAML: ${(err as Error).message}`, "fix or delete it, then run cfctl login");
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new CliError("ERROR_INVALID_PARAMETER", `${path} must hold a YAML mapping`, "fix or delete it, then run cfctl login");
  }
  return parsed as CfctlConfig;
}

/** Writes the configuration with mode 0600 (also tightening an existing file's mode). */
export async function writeConfig(path: string, config: CfctlConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const body = `# cfctl configuration, written by cfctl login; holds a credential, keep it private\n${YAML.stringify(config)}`;
  await writeFile(path, body, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function removeConfig(path: string): Promise<void> {
  await rm(path, { force: true });
}
