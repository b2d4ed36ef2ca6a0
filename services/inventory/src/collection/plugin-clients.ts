import type { Client } from "@connectrpc/connect";
import { guardedConnection, OutboundPolicy } from "@cloudforet/outbound";
import { createServiceClient } from "@cloudforet/resilience";
import { Health } from "@cloudforet/proto/grpc/health/v1/health_pb";
import type { Logger } from "pino";
import { DEFAULT_PLUGIN_METADATA_MAX_BYTES } from "../collectors/plugin-metadata";
import { RawCollector } from "./raw-collector";

export type PluginClient = Client<typeof RawCollector>;

/** Default of INVENTORY_PLUGIN_MAX_MESSAGE_BYTES: the largest message a plugin may send. */
export const DEFAULT_PLUGIN_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * One resilient gRPC client per plugin endpoint, created on first use: each endpoint has its own
 * circuit breaker and its own HTTP/2 connection, so one plugin failing or misbehaving never trips
 * or poisons the calls to another. Every connection goes through the outbound policy (a
 * collector's endpoint is user input): no loopback, private, link-local or metadata address unless
 * allowlisted. A plugin's message above `maxMessageBytes` is refused when its length prefix
 * arrives, before it is buffered.
 */
export class PluginClients {
  private readonly clients = new Map<string, PluginClient>();
  private readonly healthClients = new Map<string, Client<typeof Health>>();

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    /** CLOUDFORET_OUTBOUND_*; also what collector endpoints are validated against. */
    readonly policy: OutboundPolicy = new OutboundPolicy(),
    /** INVENTORY_PLUGIN_MAX_MESSAGE_BYTES. */
    readonly maxMessageBytes = DEFAULT_PLUGIN_MAX_MESSAGE_BYTES,
    /** INVENTORY_PLUGIN_METADATA_MAX_BYTES: the largest Init metadata stored on a collector. */
    readonly maxMetadataBytes = DEFAULT_PLUGIN_METADATA_MAX_BYTES,
  ) {}

  for(endpoint: string): PluginClient {
    let client = this.clients.get(endpoint);
    if (!client) {
      client = createServiceClient(RawCollector, endpoint, {
        logger: this.logger,
        upstream: `plugin ${new URL(endpoint).host}`,
        timeoutMs: this.timeoutMs,
        readMaxBytes: this.maxMessageBytes,
        nodeOptions: { createConnection: guardedConnection(this.policy) },
      });
      this.clients.set(endpoint, client);
    }
    return client;
  }

  /** grpc.health.v1.Health of a plugin endpoint (no retries: a check answers now or counts as down). */
  healthFor(endpoint: string): Client<typeof Health> {
    let client = this.healthClients.get(endpoint);
    if (!client) {
      client = createServiceClient(Health, endpoint, {
        logger: this.logger,
        upstream: `plugin health ${new URL(endpoint).host}`,
        timeoutMs: 10_000,
        retries: false,
        breaker: false,
        nodeOptions: { createConnection: guardedConnection(this.policy) },
      });
      this.healthClients.set(endpoint, client);
    }
    return client;
  }
}
