import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, fixedFieldLogger } from "./logger";

function collect() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split("\n")) if (text) lines.push(JSON.parse(text));
      done();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("stamps every line with the time of the line, to the millisecond, as ISO 8601 UTC", async () => {
    const { lines, stream } = collect();
    const logger = createLogger("svc", "info", stream);
    const before = Date.now();
    logger.info("first");
    await new Promise((resolve) => setTimeout(resolve, 1100)); // across a second boundary: the cached part changes
    logger.info("second");
    const after = Date.now();
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const [t1, t2] = lines.map((line) => Date.parse(line.time as string));
    expect(t1).toBeGreaterThanOrEqual(before);
    expect(t2 - t1).toBeGreaterThanOrEqual(1000);
    expect(t2).toBeLessThanOrEqual(after);
  });

  it("redacts secret keys; the fixed-field logger writes to the same place at the same level", () => {
    const { lines, stream } = collect();
    const logger = createLogger("svc", "warn", stream);
    logger.warn({ password: "hunter2", nested: { token: "t" } }, "login");
    const fixed = fixedFieldLogger(logger);
    expect(fixed).not.toBe(logger);
    fixed.info({ request_id: "r1" }, "rpc"); // below the level: dropped
    fixed.warn({ request_id: "r2", method: "a.B/C" }, "rpc failed");
    expect(lines).toMatchObject([
      { service: "svc", password: "[redacted]", nested: { token: "[redacted]" }, msg: "login" },
      { service: "svc", request_id: "r2", method: "a.B/C", level: "warn", msg: "rpc failed" },
    ]);
    expect(lines).toHaveLength(2);
  });

  it("hands back the logger itself for one it did not make", () => {
    const child = createLogger("svc", "silent").child({ a: 1 });
    expect(fixedFieldLogger(child)).toBe(child);
  });
});
