import { parseCredentialKeys, type CredentialKey } from "./credential-sealer";

const SERVICES = ["IDENTITY", "INVENTORY", "CLOUD_SERVICE", "COST", "MONITORING", "NOTIFICATION", "ORCHESTRATION"];

export interface RecurrentConfig {
  /** CLOUDFORET_<SERVICE>_URL and <SERVICE>_URL variables by name: where recurrent requests call platform RPCs. */
  serviceUrls: Record<string, string>;
  /** ORCHESTRATION_CREDENTIALS_KEYS (`kid:base64key,…`, first seals); unset → a key file under the data dir. */
  credentialKeys?: CredentialKey[];
}

/** The recurrent-request settings of the environment; problems are appended to `problems`. */
export function readRecurrentConfig(env: NodeJS.ProcessEnv, problems: string[]): RecurrentConfig {
  const serviceUrls: Record<string, string> = {};
  // CLOUDFORET_<SERVICE>_URL (the SDK's names) or <SERVICE>_URL (the deployment's, e.g. IDENTITY_URL).
  for (const [name, value] of Object.entries(env)) {
    const service = /^(?:CLOUDFORET_)?([A-Z_]+)_URL$/.exec(name)?.[1];
    if (!value || !service || !SERVICES.includes(service)) continue;
    try {
      const url = new URL(value);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
      serviceUrls[name] = value;
    } catch {
      problems.push(`${name} must be an http(s) URL, got "${value}"`);
    }
  }
  let credentialKeys: CredentialKey[] | undefined;
  if (env.ORCHESTRATION_CREDENTIALS_KEYS) {
    try {
      credentialKeys = parseCredentialKeys(env.ORCHESTRATION_CREDENTIALS_KEYS);
    } catch (err) {
      problems.push(`ORCHESTRATION_CREDENTIALS_KEYS ${(err as Error).message}`);
    }
  }
  return { serviceUrls, credentialKeys };
}
