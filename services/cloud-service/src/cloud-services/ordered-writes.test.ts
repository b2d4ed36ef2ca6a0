import { describe, expect, it } from "vitest";
import { OrderedWrites } from "./ordered-writes";

/** Prepares at once (recording the order) and writes when the test says so. */
function gated() {
  const prepared: number[][] = [];
  const written: number[][] = [];
  const gates: { resolve: (value: number) => void; reject: (err: Error) => void }[] = [];
  const prepare = async (chunk: number[]) => (prepared.push(chunk), chunk);
  const write = (chunk: number[]) =>
    new Promise<number>((resolve, reject) => {
      written.push(chunk);
      gates.push({ resolve, reject });
    });
  return { prepared, written, gates, prepare, write };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("OrderedWrites", () => {
  it("prepares the next chunk while one is written, writes one at a time in order, and settles in stream order", async () => {
    const { prepared, written, gates, prepare, write } = gated();
    const settled: [number, number][] = [];
    const writes = new OrderedWrites(2, prepare, write, (result, offset) => settled.push([result, offset]));
    await writes.add([1, 2]);
    await writes.add([3]);
    await tick();
    expect(prepared).toEqual([[1, 2], [3]]); // both prepared ...
    expect(written).toEqual([[1, 2]]); // ... but the second waits for the first's write
    const third = writes.add([4, 5, 6]); // depth 2 reached: waits for the oldest to settle
    await tick();
    expect(prepared).toHaveLength(2);
    gates[0].resolve(10);
    await third;
    await tick();
    expect(written).toEqual([[1, 2], [3]]);
    expect(prepared).toEqual([[1, 2], [3], [4, 5, 6]]);
    gates[1].resolve(20);
    await tick();
    gates[2].resolve(30);
    await writes.finish();
    expect(written).toEqual([[1, 2], [3], [4, 5, 6]]);
    expect(settled).toEqual([
      [10, 0],
      [20, 2],
      [30, 3],
    ]);
    expect(writes.count).toBe(6);
  });

  it("fails at the failed chunk's turn, does not write the chunks after it, and drain waits for what was started", async () => {
    const { written, gates, prepare, write } = gated();
    const settled: number[] = [];
    const writes = new OrderedWrites(2, prepare, write, (result) => settled.push(result));
    await writes.add([1]);
    await writes.add([2]);
    await tick();
    gates[0].reject(new Error("disk full"));
    await expect(writes.finish()).rejects.toThrow("disk full");
    await writes.drain();
    expect(written).toEqual([[1]]);
    expect(settled).toEqual([]);
  });

  it("a failed preparation fails its own chunk only when its turn comes", async () => {
    const { gates, write } = gated();
    const settled: number[] = [];
    const prepare = async (chunk: number[]) => {
      if (chunk[0] === 2) throw new Error("bad chunk");
      return chunk;
    };
    const writes = new OrderedWrites(2, prepare, write, (result) => settled.push(result));
    await writes.add([1]);
    await writes.add([2]);
    await tick();
    gates[0].resolve(1);
    await expect(writes.finish()).rejects.toThrow("bad chunk");
    expect(settled).toEqual([1]);
  });

  it("writes chunks that share nothing at once, and a chunk that shares something after the one it shares with", async () => {
    const { written, gates, prepare, write } = gated();
    const settled: number[] = [];
    const overlap = (a: number[], b: number[]) => a.some((n) => b.includes(n));
    const writes = new OrderedWrites(3, prepare, write, (result) => settled.push(result), overlap);
    await writes.add([1, 2]);
    await writes.add([3, 4]); // shares nothing with [1, 2]
    await writes.add([4, 5]); // shares 4 with [3, 4]
    await tick();
    expect(written).toEqual([
      [1, 2],
      [3, 4],
    ]);
    gates[0].resolve(1); // the first finishing does not release the third
    await tick();
    expect(written).toHaveLength(2);
    gates[1].resolve(2);
    await tick();
    expect(written).toEqual([
      [1, 2],
      [3, 4],
      [4, 5],
    ]);
    gates[2].resolve(3);
    await writes.finish();
    expect(settled).toEqual([1, 2, 3]);
  });

  it("refuses a depth below 1", () => {
    const { prepare, write } = gated();
    expect(() => new OrderedWrites(0, prepare, write, () => {})).toThrow(RangeError);
  });
});
