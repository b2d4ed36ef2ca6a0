import { describe, expect, it } from "vitest";
import { validateCron, validateTimezone } from "./schedule-rules";

describe("collector schedules", () => {
  it("accepts five-field cron expressions with lists, ranges, steps and names", () => {
    for (const cron of ["0 */6 * * *", "*/15 9-17 * * mon-fri", "0 0 1,15 jan,jul *", "30 2 * * 0", "0 0 * * 7"]) expect(validateCron(cron)).toBe(cron);
  });

  it("refuses anything else, naming schedule.cron", () => {
    for (const cron of ["", "* * * *", "60 * * * *", "* 24 * * *", "0 0 0 * *", "*/0 * * * *", "5-1 * * * *", "a b c d e", "* * * * * *"]) {
      expect(() => validateCron(cron), cron).toThrow(expect.objectContaining({ metadata: expect.objectContaining({ parameter: "schedule.cron" }) }));
    }
  });

  it("checks time zones against the IANA database", () => {
    expect(validateTimezone("")).toBe("");
    expect(validateTimezone("Asia/Seoul")).toBe("Asia/Seoul");
    expect(() => validateTimezone("Mars/Olympus")).toThrow(expect.objectContaining({ metadata: expect.objectContaining({ parameter: "schedule.timezone" }) }));
  });
});
