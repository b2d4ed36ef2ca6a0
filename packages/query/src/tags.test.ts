import { describe, expect, it } from "vitest";
import { expectInvalid } from "./test-support/expect-invalid";
import { mergeTags, tagsProblem, validateTags } from "./tags";

describe("validateTags", () => {
  it("accepts a small map of short strings", async () => {
    await expectInvalid(() => validateTags({ k: "a\u0000" }, "labels"), "labels.k");
    expect(validateTags({ environment: "production", "k8s.io/app": "web" })).toEqual({ environment: "production", "k8s.io/app": "web" });
  });

  it("refuses too many tags, bad keys, long or unstorable values, naming the parameter", () => {
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, "v"]));
    expect(tagsProblem(many)).toEqual({ message: "at most 100 tags", parameter: "tags" });
    expect(tagsProblem({ "bad key": "v" })).toMatchObject({ parameter: "tags", value: "bad key" });
    expect(tagsProblem({ k: "x".repeat(1025) })).toMatchObject({ parameter: "tags.k" });
    expect(tagsProblem({ k: "a\u0000" })).toMatchObject({ parameter: "tags.k" });
    expect(tagsProblem({ k: "\udc00" }, "labels")).toMatchObject({ parameter: "labels.k" });
  });
});

describe("mergeTags", () => {
  it("sets, then removes, then holds the result to the rules", async () => {
    expect(mergeTags({ a: "1", b: "2" }, { b: "3", c: "4" }, ["a", "c"])).toEqual({ b: "3" });
    const full = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, "v"]));
    await expectInvalid(() => mergeTags(full, { extra: "v" }, []), "tags");
    expect(mergeTags(full, { extra: "v" }, ["k0"])).toHaveProperty("extra", "v");
  });
});
