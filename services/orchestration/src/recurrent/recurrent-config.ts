import { parseCredentialKeys, type CredentialKey } from "./credential-sealer";

const SERVICES = ["IDENTITY", "INVENTORY", "CLOUD_SERVICE", "COST", "MONITORING", "NOTIFICATION", "ORCHESTRATION"];

export interface RecurrentConfig {
  /** CLOUDFORET_<SERVICE>_URL and <SERVICE>_URL variables by name: where recurrent requests call platform RPCs. */
  serviceUrls: Record<string, string>;
  /** ORCHESTRATION_CREDENTIALS_KEYS (`kid:base64key,…`, first seals); required with DATABASE_URL, else unset → a key file under the data dir. */
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
  } else if (env.DATABASE_URL) {
    // Outside the embedded mode replicas would each generate their own key file and fail on one another's seals.
    problems.push(
      "ORCHESTRATION_CREDENTIALS_KEYS is required when DATABASE_URL is set: kid:base64key[,kid:base64key...] with 32-byte AES keys, " +
        "the first one sealing, the same on every replica (e.g. main:$(openssl rand -base64 32))",
    );
  }
  return { serviceUrls, credentialKeys };
}
