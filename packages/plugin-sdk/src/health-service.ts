import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@cloudforet/proto/grpc/health/v1/health_pb";

/**
 * grpc.health.v1.Health for a plugin: the port ("") and each served service are SERVING while
 * the plugin runs, NOT_SERVING once it is stopping. Watch sends the current status, then changes.
 */
export class PluginHealth {
  private serving = true;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly services: string[]) {}

  stopServing(): void {
    this.serving = false;
    for (const wake of this.waiters) wake();
  }

  private status(service: string): ServingStatus {
    if (service !== "" && !this.services.includes(service)) throw new ConnectError(`unknown service ${service}`, Code.NotFound);
    return this.serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  service(): ServiceImpl<typeof Health> {
    const health = this;
    return {
      check: (req) => ({ status: this.status(req.service) }),
      async *watch(req, ctx) {
        yield { status: health.status(req.service) };
        if (!health.serving) return;
        await new Promise<void>((resolve) => {
          const wake = () => {
            health.waiters.delete(wake);
            resolve();
          };
          health.waiters.add(wake);
          ctx.signal.addEventListener("abort", wake, { once: true });
        });
        if (!ctx.signal.aborted) yield { status: health.status(req.service) };
      },
    };
  }
}
