import type { RetryOptions } from "@cloudforet/resilience";
import { configurationError } from "./errors";

/** The services the SDK talks to, each on its standard port of a base host. */
export const SERVICE_PORTS = {
  identity: 50051,
  inventory: 50052,
  cloudService: 50053,
  cost: 50054,
  monitoring: 50055,
  notification: 50056,
  orchestration: 50057,
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;

/** The `CLOUDFORET_<SERVICE>_URL` variable of each service. */
const URL_ENV: Record<ServiceName, string> = {
  identity: "CLOUDFORET_IDENTITY_URL",
  inventory: "CLOUDFORET_INVENTORY_URL",
  cloudService: "CLOUDFORET_CLOUD_SERVICE_URL",
  cost: "CLOUDFORET_COST_URL",
  monitoring: "CLOUDFORET_MONITORING_URL",
  notification: "CLOUDFORET_NOTIFICATION_URL",
  orchestration: "CLOUDFORET_ORCHESTRATION_URL",
};

export interface ClientOptions {
  /** An API key (`cfk_…`) of `userId`; the SDK logs in with it and keeps the token fresh. */
  apiKey?: string;
  /** A user's password, as an alternative to `apiKey`. */
  password?: string;
  /** A ready access token; used as is (no refresh, no re-login). */
  token?: string;
  /** The domain to log in to. Default `domain-default`. */
  domainId?: string;
  /** The user the API key or password belongs to (the key does not name its user). */
  userId?: string;
  /** A base URL, e.g. `http://cloudforet.example.com`: every service on its standard port (50051–50057). */
  baseUrl?: string;
  /** Per-service URLs; they win over `baseUrl`. */
  urls?: Partial<Record<ServiceName, string>>;
  /** Deadline of a call, retries included. Default 30 000 ms; every call may pass its own. */
  timeoutMs?: number;
  /** Retries of calls that failed transiently (default 3 attempts, 100 ms base backoff), or `false`. */
  retries?: RetryOptions | false | number;
  /** Wire protocol. Default `grpc`. */
  protocol?: "grpc" | "connect";
}

/** The options of `Client.fromEnv()`, read from the environment (explicit options win). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ClientOptions {
  const urls: Partial<Record<ServiceName, string>> = {};
  for (const name of Object.keys(URL_ENV) as ServiceName[]) {
    const value = env[URL_ENV[name]];
    if (value) urls[name] = value;
  }
  return {
    apiKey: env.CLOUDFORET_API_KEY || undefined,
    password: env.CLOUDFORET_PASSWORD || undefined,
    token: env.CLOUDFORET_TOKEN || undefined,
    domainId: env.CLOUDFORET_DOMAIN_ID || undefined,
    userId: env.CLOUDFORET_USER_ID || undefined,
    baseUrl: env.CLOUDFORET_API_URL || undefined,
    urls,
  };
}

/** The URL of one service: its own URL, else the base host on the service's standard port. */
export function serviceUrl(options: ClientOptions, name: ServiceName): string {
  const own = options.urls?.[name];
  if (own) return own.replace(/\/+$/, "");
  if (!options.baseUrl) {
    throw configurationError(`No URL for the ${name} service: pass baseUrl or urls.${name} (CLOUDFORET_API_URL)`, "baseUrl");
  }
  const base = new URL(options.baseUrl.includes("://") ? options.baseUrl : `http://${options.baseUrl}`);
  base.port = String(SERVICE_PORTS[name]);
  return base.origin;
}
