// @cloudforet/testing does not import @cloudforet/runtime (whose own tests import this package: that
// would be a workspace cycle): the caller passes runtime's `startService`, and these structural types
// are all of a module and a running service that starting replicas needs.

/** What a replica is started from: a service module, by its name (`cloud-service`). */
export interface ReplicaModule {
  name: string;
}

/** One running replica: where it serves, and its graceful stop. */
export interface ReplicaService {
  url: string;
  close(): Promise<void>;
}

/** Starts one copy of `module` with `env`: @cloudforet/runtime's `startService`. */
export type StartService<M extends ReplicaModule, S extends ReplicaService> = (module: M, env: NodeJS.ProcessEnv) => Promise<S>;

/** N running copies of one service on one database and one NATS, as a scaled-out deployment runs them. */
export interface Replicas<S extends ReplicaService = ReplicaService> {
  /** The running replicas, in start order (a closed one stays in place, closed). */
  services: S[];
  /** The base URL of replica `i`. */
  url(i: number): string;
  /** Stops replica `i` gracefully (the others keep serving). */
  closeOne(i: number): Promise<void>;
  /** Stops every replica that is still running. */
  close(): Promise<void>;
}

/** `cloud-service` → `CLOUD_SERVICE_ADDR`, the variable naming a service's listen address. */
const addrVariable = (name: string) => `${name.toUpperCase().replace(/-/g, "_")}_ADDR`;

/**
 * Starts `n` replicas of `module`, each by `start` (pass @cloudforet/runtime's `startService`), with
 * the same environment (DATABASE_URL, NATS_URL, IDENTITY_URL, keys: whatever the caller passes),
 * each on a port of its own. They start at the same time, as
 * pods of a deployment do, so migrations and first-start bootstraps race as they would there.
 * If any fails to start, the others are stopped and the first error is thrown.
 */
export async function startReplicas<M extends ReplicaModule, S extends ReplicaService>(
  start: StartService<M, S>,
  module: M,
  n: number,
  env: NodeJS.ProcessEnv,
): Promise<Replicas<S>> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`startReplicas needs at least one replica, got ${n}`);
  const replicaEnv: NodeJS.ProcessEnv = { LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent", ...env, [addrVariable(module.name)]: "127.0.0.1:0" };
  const started = await Promise.allSettled(Array.from({ length: n }, () => start(module, { ...replicaEnv })));
  const services = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(services.map((s) => s.close().catch(() => {})));
    throw failed.reason;
  }
  const closed = new Set<number>();
  const closeOne = async (i: number) => {
    if (!services[i]) throw new Error(`no replica ${i} (there are ${services.length})`);
    closed.add(i);
    await services[i].close();
  };
  return {
    services,
    url(i) {
      if (!services[i]) throw new Error(`no replica ${i} (there are ${services.length})`);
      return services[i].url;
    },
    closeOne,
    async close() {
      await Promise.all(services.map((_, i) => closeOne(i)));
    },
  };
}
