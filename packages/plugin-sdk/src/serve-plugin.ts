import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Collector } from "@cloudforet/proto/cloudforet/inventory/plugin/v1/collector_pb";
import { Health } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { collectorService } from "./collector-service";
import { DescriptorIndex, registerReflection } from "@cloudforet/reflection";
import { PluginHealth } from "./health-service";
import type { CollectorPlugin } from "./plugin";

export interface ServePluginOptions {
  /** Default "0.0.0.0". */
  host?: string;
  /** Default 50100; 0 picks a free port. */
  port?: number;
  /** Called with errors the plugin threw that were not PlatformErrors (they answer ERROR_UNKNOWN). */
  onError?: (err: unknown) => void;
}

export interface ServedPlugin {
  /** The base URL to give a collector as plugin_info.endpoint, e.g. "http://127.0.0.1:50100". */
  url: string;
  port: number;
  /** Reports NOT_SERVING, lets running calls end, then closes the port. */
  close(): Promise<void>;
}

/**
 * Serves a plugin as `cloudforet.inventory.plugin.v1.Collector` over gRPC (HTTP/2 cleartext, as
 * inventory, grpcurl -plaintext and buf curl --http2-prior-knowledge speak it), with
 * grpc.health.v1.Health and server reflection on the same port.
 */
export async function servePlugin(plugin: CollectorPlugin, options: ServePluginOptions = {}): Promise<ServedPlugin> {
  const services = [Collector, Health];
  const health = new PluginHealth(services.map((s) => s.typeName));
  const handler = connectNodeAdapter({
    routes(router) {
      router.service(Collector, collectorService(plugin, options.onError ?? (() => {})));
      router.service(Health, health.service());
      registerReflection(router, new DescriptorIndex(services));
    },
  });
  const server = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const host = options.host ?? "0.0.0.0";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 50100, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const reachableHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    url: `http://${reachableHost}:${port}`,
    port,
    async close() {
      health.stopServing();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      const force = setTimeout(() => sessions.forEach((s) => s.destroy()), 5_000);
      await closed;
      clearTimeout(force);
    },
  };
}
