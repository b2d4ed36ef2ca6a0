import { Client, optionsFromEnv, type ClientOptions } from "@cloudforet/sdk/node";
import { CliError } from "./cli-error";
import type { CfctlConfig } from "./config-file";

/**
 * The SDK options of a command: the saved configuration, overridden by the environment as
 * `Client.fromEnv()` reads it (CLOUDFORET_API_KEY / _PASSWORD / _TOKEN with CLOUDFORET_USER_ID,
 * CLOUDFORET_API_URL, CLOUDFORET_<SERVICE>_URL, CLOUDFORET_DOMAIN_ID). Credentials come whole
 * from one place: a key in the environment is never paired with the file's token.
 */
export function clientOptions(config: CfctlConfig, env: NodeJS.ProcessEnv = process.env): ClientOptions {
  const fromEnv = optionsFromEnv(env);
  const envHasCredentials = Boolean(fromEnv.apiKey || fromEnv.password || fromEnv.token);
  const credentials = envHasCredentials
    ? { apiKey: fromEnv.apiKey, password: fromEnv.password, token: fromEnv.token, userId: fromEnv.userId ?? config.user_id }
    : { apiKey: config.api_key, token: config.token, userId: config.user_id };
  return {
    ...credentials,
    domainId: fromEnv.domainId ?? config.domain_id,
    baseUrl: fromEnv.baseUrl ?? config.url,
    urls: { ...config.endpoints, ...fromEnv.urls },
    timeoutMs: Number(env.CFCTL_TIMEOUT_MS) || 30_000,
  };
}

/** A client for the saved login (or the environment's credentials); refuses when there is none. */
export function connect(config: CfctlConfig, env: NodeJS.ProcessEnv = process.env): Client {
  const options = clientOptions(config, env);
  if (!options.apiKey && !options.password && !options.token) {
    throw new CliError("ERROR_AUTHENTICATE_FAILURE", "Not logged in", "run cfctl login, or set CLOUDFORET_API_KEY and CLOUDFORET_USER_ID");
  }
  if (!options.baseUrl && Object.keys(options.urls ?? {}).length === 0) {
    throw new CliError("ERROR_INVALID_PARAMETER", "No platform URL", "run cfctl login --url http://HOST, or set CLOUDFORET_API_URL");
  }
  return new Client(options);
}
