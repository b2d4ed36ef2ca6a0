import type { Transport } from "@connectrpc/connect";
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

/** Retries of transiently failed calls (the Node client's; see `@cloudforet/sdk/node`). */
export interface ClientRetryOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** Backoff before the first retry, doubled each time. Default 100 ms. */
  baseDelayMs?: number;
  /** Cap on the exponential backoff. Default 5000 ms. */
  maxDelayMs?: number;
}

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
  /** Retries of calls that failed transiently (default 3 attempts, 100 ms base backoff), or `false` (Node client). */
  retries?: ClientRetryOptions | false | number;
  /**
   * Wire protocol. The Node client (`@cloudforet/sdk/node`) defaults to `grpc`; the core client
   * speaks `connect` (or `grpc-web`) over `fetch` unless given a `transport`.
   */
  protocol?: "grpc" | "connect" | "grpc-web";
  /**
   * The Connect transport to call through, e.g. connect-web's `createConnectTransport` in a browser:
   * one for every service (behind a gateway such as the console's), or one per service.
   * Given, it wins over `baseUrl`/`urls`.
   */
  transport?: Transport | ((service: ServiceName) => Transport);
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
