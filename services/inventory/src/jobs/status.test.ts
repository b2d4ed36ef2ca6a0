import { describe, expect, it } from "vitest";
import { rolledUpProgress, rolledUpStatus, type TaskTotals } from "./status";

const totals = (over: Partial<TaskTotals>): TaskTotals => ({ succeeded: 0, failed: 0, running: 0, created: 0, updated: 0, deleted: 0, errors: 0, progressSum: 0, ...over });

describe("job roll-up", () => {
  it("stays CREATED until a task starts, then IN_PROGRESS until every account's task has ended", () => {
    expect(rolledUpStatus("CREATED", 2, totals({}))).toBe("CREATED");
    expect(rolledUpStatus("CREATED", 2, totals({ running: 1 }))).toBe("IN_PROGRESS");
    expect(rolledUpStatus("IN_PROGRESS", 2, totals({ succeeded: 1 }))).toBe("IN_PROGRESS");
  });

  it("ends FINISHED when all finished, FAILURE when any failed", () => {
    expect(rolledUpStatus("IN_PROGRESS", 2, totals({ succeeded: 2 }))).toBe("FINISHED");
    expect(rolledUpStatus("IN_PROGRESS", 2, totals({ succeeded: 1, failed: 1 }))).toBe("FAILURE");
  });

  it("leaves a final job as it is", () => {
    expect(rolledUpStatus("CANCELED", 1, totals({ succeeded: 1 }))).toBe("CANCELED");
    expect(rolledUpStatus("TIMEOUT", 1, totals({ running: 1 }))).toBe("TIMEOUT");
  });

  it("averages progress over every task of the job, tasks not yet created counting 0", () => {
    expect(rolledUpProgress(2, totals({ progressSum: 35 }))).toBe(17);
    expect(rolledUpProgress(2, totals({ progressSum: 200 }))).toBe(100);
    expect(rolledUpProgress(0, totals({ progressSum: 50 }))).toBe(0);
  });
});
