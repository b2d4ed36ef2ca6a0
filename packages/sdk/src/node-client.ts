import type { DescService } from "@bufbuild/protobuf";
import type { Client as ConnectClient } from "@connectrpc/connect";
import { createServiceClient, type RetryOptions } from "@cloudforet/resilience";
import { Client as CoreClient } from "./client";
import { serviceUrl, type ClientOptions, type ServiceName } from "./config";
import { optionsFromEnv } from "./env-options";

/**
 * The CloudForet client for Node.js: the core `Client` whose calls go over gRPC (HTTP/2,
 * or Connect with `protocol: "connect"`) through resilience's client — a deadline per call,
 * jittered retries of retryable codes, a circuit breaker per upstream, replaceable HTTP/2 sessions.
 */
export class Client extends CoreClient {
  /**
   * A client configured from the environment: CLOUDFORET_API_KEY (or CLOUDFORET_PASSWORD /
   * CLOUDFORET_TOKEN), CLOUDFORET_USER_ID, CLOUDFORET_DOMAIN_ID, CLOUDFORET_API_URL and
   * CLOUDFORET_<SERVICE>_URL. Options given here win.
   */
  static fromEnv(overrides: ClientOptions = {}, env: NodeJS.ProcessEnv = process.env): Client {
    const fromEnv = optionsFromEnv(env);
    return new Client({ ...fromEnv, ...definedOnly(overrides), urls: { ...fromEnv.urls, ...overrides.urls } });
  }

  protected override connectService<S extends DescService>(service: S, name: ServiceName, options: ClientOptions): ConnectClient<S> {
    if (options.transport) return super.connectService(service, name, options);
    const url = serviceUrl(options, name);
    return createServiceClient(service, url, {
      protocol: options.protocol ?? "grpc",
      timeoutMs: options.timeoutMs ?? 30_000,
      retries: retryOptions(options.retries),
      upstream: `${service.typeName}@${new URL(url).host}`,
    });
  }
}

function retryOptions(retries: ClientOptions["retries"]): RetryOptions | false {
  if (retries === false) return false;
  if (typeof retries === "number") return retries <= 1 ? false : { maxAttempts: retries };
  return retries ?? {};
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
