import { describe, expect, it } from "vitest";
import { REDACTED, redactBody } from "./redact-body";

describe("redactBody", () => {
  it("redacts secret fields and secret-shaped values, keeps ids and page tokens", () => {
    const jwt = `eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZG1pbiJ9.${"s".repeat(20)}`;
    expect(
      redactBody("cloudforet.identity.v1.UserService/Create", {
        user_id: "u1",
        password: "Passw0rd!",
        api_key_id: "key-1",
        next_page_token: "p2",
        note: jwt,
        nested: [{ access_token: "t" }],
      }),
    ).toEqual({ user_id: "u1", password: REDACTED, api_key_id: "key-1", next_page_token: "p2", note: REDACTED, nested: [{ access_token: REDACTED }] });
  });

  it("redacts a secret's data whole in SecretService bodies", () => {
    expect(redactBody("cloudforet.identity.v1.SecretService/Create", { name: "s", data: { host: "h" } })).toEqual({ name: "s", data: REDACTED });
  });

  it("stores NULs and lone surrogates as U+FFFD, in values and keys", () => {
    expect(redactBody("cloudforet.cost.v1.CostService/BatchCreate", { costs: [{ date: "a\u0000b", ["k\u0000"]: "\uD800" }] })).toEqual({
      costs: [{ date: "a\uFFFDb", "k\uFFFD": "\uFFFD" }],
    });
  });
});
