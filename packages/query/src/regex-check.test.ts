import { describe, expect, it } from "vitest";
import { regexProblem } from "./regex-check";

describe("regexProblem", () => {
  it.each(["^prod-", "web|db", "^[A-Z][a-z]+\\d{2,3}$", "(?:a|b)+c?", "(?=a)a", "(?<=a)b", "(?<!a)b", "[\\]]", "\\.", "a{255}", "((a{30}){30}){5}", ""])(
    "accepts %j",
    (pattern) => {
      expect(regexProblem(pattern)).toBeUndefined();
    },
  );

  it.each([
    ["(", "Not a valid regular expression"],
    ["a**", "Not a valid regular expression"],
    ["\\q", "Not a valid regular expression"],
    ["[[:alpha:]]", "Not a valid regular expression"],
    ["(a)\\1", "Back-references are not supported"],
    ["(?<name>a)", "Named groups are not supported"],
    ["\\p{L}", "\\p is not supported"],
    ["\\u{41}", "\\u{…} escapes are not supported"],
    ["\\ud800", "Surrogate escapes are not supported"],
    ["[]", "Empty character classes ([] or [^]) are not supported"],
    ["[^]", "Empty character classes ([] or [^]) are not supported"],
    ["a{256}", "Repetition counts may not exceed 255"],
    ["((a{255}){255}){255}", "The regular expression is too complex"],
    ["a".repeat(257), "A regex may have at most 256 characters"],
  ])("rejects %j: %s", (pattern, problem) => {
    expect(regexProblem(pattern)).toBe(problem);
  });
});
