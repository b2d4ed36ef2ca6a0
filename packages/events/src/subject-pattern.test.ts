import { describe, expect, it } from "vitest";
import { subjectMatches } from "./subject-pattern";
import { createEvent, decodeEvent, encodeEvent, eventSubject } from "./event";
import { redeliveryDelay } from "./redelivery-policy";

describe("subjectMatches", () => {
  it.each([
    ["cloudforet.inventory.job.finished", "cloudforet.inventory.job.finished", true],
    ["cloudforet.inventory.*.finished", "cloudforet.inventory.job.finished", true],
    ["cloudforet.inventory.*", "cloudforet.inventory.job.finished", false],
    ["cloudforet.>", "cloudforet.inventory.job.finished", true],
    ["cloudforet.inventory.>", "cloudforet.inventory", false],
    ["cloudforet.*.job.>", "cloudforet.cost.job.task.created", true],
    ["cloudforet.inventory.job", "cloudforet.inventory.job.finished", false],
  ])("%s vs %s → %s", (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});

describe("events on the wire", () => {
  it("names subjects cloudforet.<service>.<entity>.<event>", () => {
    expect(eventSubject("inventory", "job", "finished")).toBe("cloudforet.inventory.job.finished");
    expect(() => eventSubject("inventory", "job.*", "finished")).toThrow(/invalid event subject/);
  });

  it("round-trips an event as JSON", () => {
    const event = createEvent({
      subject: "cloudforet.cost.budget.exceeded",
      domainId: "d-1",
      occurredAt: new Date("2026-01-02T03:04:05Z"),
      data: { budget_id: "b-1", ratio: 1.25 },
    });
    expect(event.occurredAt).toBe("2026-01-02T03:04:05.000Z");
    expect(JSON.parse(new TextDecoder().decode(encodeEvent(event)))).toEqual(event);
    expect(decodeEvent(encodeEvent(event))).toEqual(event);
    expect(() => decodeEvent(new TextEncoder().encode("{"))).toThrow(/not JSON/);
  });

  it("backs off exponentially up to the ceiling", () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1_000, maxDeliver: -1 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => redeliveryDelay(attempt, policy))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });
});
