import { describe, expect, it } from "vitest";
import { readOrchestrationConfig } from "./config";

describe("readOrchestrationConfig: the engine's room", () => {
  it("by default holds several claim batches, so claims under a backlog take whole batches (bench orchestration)", () => {
    const config = readOrchestrationConfig({});
    expect(config.claimBatch).toBe(64);
    expect(config.maxActive).toBe(512);
    expect(config.maxActive).toBeGreaterThanOrEqual(4 * config.claimBatch);
  });

  it("takes the operator's numbers, and refuses a room below one instance", () => {
    expect(readOrchestrationConfig({ ORCHESTRATION_MAX_ACTIVE: "8", ORCHESTRATION_CLAIM_BATCH: "8" })).toMatchObject({ maxActive: 8, claimBatch: 8 });
    expect(() => readOrchestrationConfig({ ORCHESTRATION_MAX_ACTIVE: "0" })).toThrow(/ORCHESTRATION_MAX_ACTIVE must be an integer ≥ 1/);
  });
});
