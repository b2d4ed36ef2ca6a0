import { describe, expect, it } from "vitest";
import { echoedValue, invalidParameter, printable } from "./platform-error";

describe("printable and echoedValue", () => {
  it("replace NULs and lone surrogates, and keep well-formed pairs", () => {
    expect(printable("a\u0000b\uD800c\uDC00d\uD83D\uDE00")).toBe("a\uFFFDb\uFFFDc\uFFFDd\uD83D\uDE00");
  });

  it("cut long values to the limit with an ellipsis", () => {
    expect(echoedValue("x".repeat(300))).toBe(`${"x".repeat(256)}…`);
    expect(echoedValue("short")).toBe("short");
  });

  it("make every error's metadata printable", () => {
    expect(invalidParameter("bad", { parameter: "name", value: "a\u0000" }).metadata).toEqual({ parameter: "name", value: "a\uFFFD" });
  });
});
