import { describe, expect, it } from "vitest";
import { findNul } from "./nul-guard";

describe("findNul", () => {
  it("names the top-level id, list or map holding U+0000, and leaves nested messages to the handlers", () => {
    expect(findNul({ $typeName: "x", domainId: "domain-a", name: "ok", tags: { a: "b" } })).toBeUndefined();
    expect(findNul({ $typeName: "x", serviceAccountId: "a\u0000b" })).toBe("service_account_id");
    expect(findNul({ notificationIds: ["ok", "\u0000"] })).toBe("notification_ids");
    expect(findNul({ tags: { "k\u0000": "v" } })).toBe("tags");
    expect(findNul({ tags: { k: "v\u0000" } })).toBe("tags");
    expect(findNul({ costs: [{ $typeName: "row", resourceId: "vm\u0000" }] })).toBeUndefined();
    expect(findNul({ data: { $typeName: "google.protobuf.Struct", fields: { a: "\u0000" } } })).toBeUndefined();
    expect(findNul({ payload: new Uint8Array([0]) })).toBeUndefined();
  });
});
