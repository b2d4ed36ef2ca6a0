import { describe, expect, it } from "vitest";
import { jsonBodyProblem } from "./rest-input";

const problem = (body: unknown) => {
  const error = jsonBodyProblem(body);
  return error && { message: error.message, parameter: error.metadata.parameter };
};

describe("jsonBodyProblem", () => {
  it("passes a sound body, however many items it has", () => {
    expect(problem({ instances: Array.from({ length: 1_000 }, (_, i) => ({ sequence_id: `s-${i}`, context: { data: { n: i, tags: ["a", "b"] } } })) })).toBeUndefined();
  });

  it("names the value at fault by its path: keys joined by dots, array items by their index", () => {
    expect(problem({ instances: [{ ok: 1 }, { context: { data: { note: "a\u0000b" } } }] })).toEqual({
      message: "instances[1].context.data.note holds a NUL character",
      parameter: "instances[1].context.data.note",
    });
    expect(problem([[1, 2 ** 60]])).toEqual({ message: `[0][1] is out of range (at most ${Number.MAX_SAFE_INTEGER} in magnitude)`, parameter: "[0][1]" });
    expect(problem("\ud800")).toEqual({ message: "body holds broken UTF-16 (a lone surrogate)", parameter: "body" });
  });

  it("names the object holding a bad key, not the key", () => {
    expect(problem({ metadata: { ["bad\u0000key"]: 1 } })).toEqual({ message: "metadata has a key that holds a NUL character", parameter: "metadata" });
  });

  it("reports the first problem in document order", () => {
    expect(problem({ a: [{ x: "\u0000" }], b: "\u0000" })?.parameter).toBe("a[0].x");
    expect(problem({ a: { x: 2 ** 60 }, b: { ["\u0000"]: 1 } })?.parameter).toBe("a.x");
    // An object's own bad key comes before problems inside its values.
    expect(problem({ a: { x: "\u0000", ["\u0000"]: 1 } })?.parameter).toBe("a");
  });

  it("refuses nesting past the limit, iteratively (no stack overflow at 10,000 levels)", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(problem({ output: deep })?.message).toMatch(/^output(\[0\])+ is nested deeper than \d+ levels$/);
  });
});
