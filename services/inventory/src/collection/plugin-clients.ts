import type { Client } from "@connectrpc/connect";
import { Collector } from "@cloudforet/proto/cloudforet/inventory/plugin/v1/collector_pb";
import { createServiceClient } from "@cloudforet/resilience";
import type { Logger } from "pino";

export type PluginClient = Client<typeof Collector>;

/**
 * One resilient gRPC client per plugin endpoint (so each plugin has its own circuit breaker),
 * created on first use.
 */
export class PluginClients {
  private readonly clients = new Map<string, PluginClient>();

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  for(endpoint: string): PluginClient {
    let client = this.clients.get(endpoint);
    if (!client) {
      client = createServiceClient(Collector, endpoint, { logger: this.logger, upstream: `plugin ${new URL(endpoint).host}`, timeoutMs: this.timeoutMs });
      this.clients.set(endpoint, client);
    }
    return client;
  }
}
