/**
 * Writes a stream's chunks up to `depth` at a time, as if one after another: `prepare` (checking,
 * no writes) starts as soon as a chunk is given, and a chunk's `write` waits only for the earlier
 * chunks it `conflicts` with (they may touch the same rows) — so the service's work on the next
 * chunk, and the database's on chunks that share nothing, overlap, while a resource named in two
 * chunks still ends as the later one says. Results are handed to `settle` in the order the chunks
 * were given, with each chunk's offset in the stream. A failed chunk fails the stream when its
 * turn to settle comes, and a chunk that conflicts with it is not written; `finish` (and, for a
 * stream that stops early, `drain`) waits for every write it started, so none outlives the call.
 */
export class OrderedWrites<T, P, R> {
  private readonly inFlight: { offset: number; prepared: Promise<P>; result: Promise<R> }[] = [];
  private taken = 0;

  constructor(
    private readonly depth: number,
    private readonly prepare: (chunk: T[]) => Promise<P>,
    private readonly write: (prepared: P) => Promise<R>,
    private readonly settle: (result: R, offset: number) => void,
    /** Whether two prepared chunks may touch the same rows (then the later one is written after the earlier). */
    private readonly conflicts: (earlier: P, later: P) => boolean = () => true,
  ) {
    if (!(depth >= 1)) throw new RangeError("depth must be at least 1");
  }

  /** Items given so far. */
  get count(): number {
    return this.taken;
  }

  /** Starts `chunk`, first settling the oldest chunk when `depth` are in flight; it is written after the earlier chunks it conflicts with. */
  async add(chunk: T[]): Promise<void> {
    if (this.inFlight.length >= this.depth) await this.settleOldest();
    const earlier = [...this.inFlight];
    const prepared = this.prepare(chunk);
    prepared.catch(() => {}); // surfaces through `result`
    const result = (async () => {
      const mine = await prepared;
      for (const before of earlier) {
        // An earlier chunk whose preparation failed counts as a conflict: this one waits and fails with it.
        const theirs = await before.prepared.then((value) => ({ value }), () => undefined);
        if (!theirs || this.conflicts(theirs.value, mine)) await before.result;
      }
      return this.write(mine);
    })();
    result.catch(() => {}); // settled in order by settleOldest; not an unhandled rejection meanwhile
    this.inFlight.push({ offset: this.taken, prepared, result });
    this.taken += chunk.length;
  }

  /** Waits for every write and settles them in order. */
  async finish(): Promise<void> {
    while (this.inFlight.length > 0) await this.settleOldest();
  }

  /** Waits for the writes still in flight, whatever their outcome, without settling them. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.inFlight.splice(0).map((chunk) => chunk.result));
  }

  private async settleOldest(): Promise<void> {
    const { offset, result } = this.inFlight.shift()!;
    this.settle(await result, offset);
  }
}
