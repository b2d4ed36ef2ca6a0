import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";

/**
 * PGlite is one Postgres backend with one connection, and its data directory must not be opened
 * twice. In embedded mode all seven services run in one process, so they share one instance per
 * data directory; the last `release()` closes it.
 */
interface RegistryEntry {
  client: Promise<PGlite>;
  refs: number;
}

interface Registry {
  open: Map<string, RegistryEntry>;
  /** Instances whose last lease was released and that are still shutting down. */
  closing: Map<string, Promise<void>>;
}

// Kept on globalThis so two copies of this package in one process still share the instance.
const registryKey = Symbol.for("@cloudforet/db:pglite-registry");
const registry: Registry = ((globalThis as Record<symbol, unknown>)[registryKey] ??= {
  open: new Map(),
  closing: new Map(),
}) as Registry;

export interface PgliteLease {
  client: PGlite;
  /** The registry key: the absolute data directory, or `memory://…` for an in-memory database. */
  dataDir: string;
  release(): Promise<void>;
}

const isInMemory = (dataDir: string) => dataDir.startsWith("memory://");

export function pgliteRegistryKey(dataDir: string): string {
  return isInMemory(dataDir) ? dataDir : resolve(dataDir);
}

/** Takes a reference to the process-wide PGlite instance for `dataDir`, starting it if needed. */
export async function acquirePglite(dataDir: string): Promise<PgliteLease> {
  const key = pgliteRegistryKey(dataDir);
  await registry.closing.get(key);

  let entry = registry.open.get(key);
  if (!entry) {
    entry = { client: startPglite(key), refs: 0 };
    registry.open.set(key, entry);
    const started = entry;
    started.client.catch(() => {
      if (registry.open.get(key) === started) registry.open.delete(key);
    });
  }
  entry.refs += 1;
  const held = entry;

  let client: PGlite;
  try {
    client = await held.client;
  } catch (err) {
    held.refs -= 1;
    throw err;
  }

  let released = false;
  return {
    client,
    dataDir: key,
    async release() {
      if (released) return;
      released = true;
      held.refs -= 1;
      if (held.refs > 0 || registry.open.get(key) !== held) return;
      registry.open.delete(key);
      const closing = client.close().finally(() => registry.closing.delete(key));
      registry.closing.set(key, closing);
      await closing;
    },
  };
}

/** How many leases are held on the instance for `dataDir` (0 when it is not open). */
export function pgliteReferenceCount(dataDir: string): number {
  return registry.open.get(pgliteRegistryKey(dataDir))?.refs ?? 0;
}

async function startPglite(key: string): Promise<PGlite> {
  if (isInMemory(key)) return PGlite.create(key);
  await mkdir(key, { recursive: true });
  return PGlite.create(key);
}
