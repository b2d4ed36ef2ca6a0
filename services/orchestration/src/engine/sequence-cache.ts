import { eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { sequences } from "../db/schema";
import type { Block } from "../definitions/blocks";
import { blockIndex } from "./execution-reset";

export interface LoadedSequence {
  id: string;
  blocks: Block[];
  /** Block ids of the definition → block. */
  index: Map<string, Block>;
  /** Whether any template or condition reads `outputs` (so a pass loads them). */
  readsOutputs: boolean;
}

/** Sequences never change once stored, so the engine keeps the ones it runs in memory. */
export class SequenceCache {
  private readonly cache = new Map<string, LoadedSequence>();
  /** Loads in flight, so a burst of instances of a new sequence reads it once. */
  private readonly loading = new Map<string, Promise<LoadedSequence | undefined>>();

  constructor(
    private readonly db: Database,
    /** Opens the sealed credentials of step params (step-secrets.ts): the engine runs with the real values. */
    private readonly openSecrets: (blocks: Block[], sequenceId: string) => Block[] = (blocks) => blocks,
    private readonly capacity = 1_000,
  ) {}

  async get(id: string): Promise<LoadedSequence | undefined> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    let load = this.loading.get(id);
    if (!load) {
      load = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, load);
    }
    return load;
  }

  private async load(id: string): Promise<LoadedSequence | undefined> {
    const [row] = await this.db.select({ id: sequences.id, blocks: sequences.blocks }).from(sequences).where(eq(sequences.id, id));
    if (!row) return undefined;
    const blocks = this.openSecrets(row.blocks, row.id);
    const loaded: LoadedSequence = { id: row.id, blocks, index: blockIndex(blocks), readsOutputs: JSON.stringify(blocks).includes("outputs") };
    if (this.cache.size >= this.capacity) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, loaded);
    return loaded;
  }
}
