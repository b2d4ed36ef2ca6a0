import { describe, expect, it } from "vitest";
import { describeItem, ItemRejected, toMatchRules, toUpsertItem } from "./collected-item";
import { ProgressEstimate } from "./progress-estimate";

const from = { collectorId: "collector-1", jobTaskId: "task-1", serviceAccountId: "sa-1", provider: "nutanix", workspaceId: "ws-1" };

describe("a plugin's resource as an upsert item", () => {
  it("fills provider and account, and always carries the collection's provenance", () => {
    const item = toUpsertItem(
      { cloud_service_type: "compute.Instance", name: "vm", data: { state: "ON" }, tags: { n: 1 }, reference: { resource_id: "r-1" }, collector_id: "forged" },
      { "2": ["name"], "1": ["reference.resource_id", "provider"] },
      from,
    );
    expect(item).toMatchObject({
      cloudServiceName: "vm",
      provider: "nutanix",
      account: "sa-1",
      tags: { n: "1" },
      reference: { resourceId: "r-1", externalLink: "" },
      collectorId: "collector-1",
      jobTaskId: "task-1",
      workspaceId: "ws-1",
      matchRules: [{ keys: ["reference.resource_id", "provider"] }, { keys: ["name"] }],
    });
  });

  it("rejects malformed items so that they count as item errors", () => {
    expect(() => toUpsertItem({ data: [1, 2] }, undefined, from)).toThrow(ItemRejected);
    expect(() => toUpsertItem({ cloud_service_type: { x: 1 } }, undefined, from)).toThrow(ItemRejected);
    expect(() => toMatchRules({ "1": "name" })).toThrow(ItemRejected);
    expect(describeItem({ reference: { resource_id: "r-9" } })).toBe("resource r-9");
  });
});

describe("pull progress", () => {
  it("follows the previous collection's size, capped at 99, and never goes down", () => {
    const estimate = new ProgressEstimate(1000);
    expect([0, 250, 500, 1000, 1500].map((seen) => estimate.after(seen))).toEqual([0, 25, 50, 99, 99]);
  });

  it("rises without reaching 100 when there was no previous collection", () => {
    const estimate = new ProgressEstimate(undefined);
    const values = [0, 100, 1000, 10_000, 1_000_000].map((seen) => estimate.after(seen));
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(values.at(-1)).toBeLessThan(100);
  });
});
