import { EventEmitter, on } from "node:events";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@cloudforet/proto/grpc/health/v1/health_pb";

export { ServingStatus };

/**
 * A health name that stays SERVING while the process runs, whatever its dependencies do: the
 * target of a liveness probe (`grpc: {port, service: "liveness"}`), so an unreachable database
 * makes a pod unready, never restarted.
 */
export const LIVENESS_SERVICE = "liveness";

/**
 * The serving status of each gRPC service on a port, and of the port as a whole (""),
 * served as grpc.health.v1.Health (Check and Watch).
 */
export class HealthRegistry {
  private readonly statuses = new Map<string, ServingStatus>([
    ["", ServingStatus.SERVING],
    [LIVENESS_SERVICE, ServingStatus.SERVING],
  ]);
  private readonly changes = new EventEmitter();
  private watchers = 0;
  private watchTimer: NodeJS.Timeout | undefined;

  /**
   * `refresh` re-probes the dependencies (it throttles itself). It runs when someone asks, never on
   * its own: a Check answers the status known now and refreshes it for the next asker (a probe never
   * waits on a database that hangs), and while a Watch is open it runs every `watchRefreshMs`. An
   * idle platform therefore sends no readiness queries at all.
   */
  constructor(
    private readonly refresh?: () => void,
    private readonly watchRefreshMs = 5_000,
  ) {
    this.changes.setMaxListeners(0);
  }

  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    this.changes.emit("change", service);
  }

  /** Sets every known service, and the port, to one status (readiness and shutdown do this). */
  setAll(status: ServingStatus): void {
    for (const service of [...this.statuses.keys()]) if (service !== LIVENESS_SERVICE) this.set(service, status);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  register(router: ConnectRouter): void {
    router.service(Health, {
      check: (req) => {
        this.refresh?.();
        const status = this.get(req.service);
        if (status === undefined) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
        return { status };
      },
      watch: (req, ctx) => this.watch(req.service, ctx.signal),
    });
  }

  private async *watch(service: string, signal: AbortSignal) {
    this.refresh?.();
    let last = this.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
    yield { status: last };
    this.watchStarted();
    try {
      for await (const [changed] of on(this.changes, "change", { signal })) {
        if (changed !== service) continue;
        const status = this.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status === last) continue;
        last = status;
        yield { status };
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      this.watchEnded();
    }
  }

  private watchStarted(): void {
    if (this.watchers++ === 0 && this.refresh) {
      this.watchTimer = setInterval(() => this.refresh?.(), this.watchRefreshMs);
      this.watchTimer.unref();
    }
  }

  private watchEnded(): void {
    if (--this.watchers === 0) clearInterval(this.watchTimer);
  }
}
