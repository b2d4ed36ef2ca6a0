import { describe, expect, it } from "vitest";
import { checkCost, costDecimalPlaces, isCalendarDate, parseGroupBy } from "./costs";

const row = { date: "2024-01-15", cost: 12.5, currency: "", resourceId: "vm-1", resourceType: "", region: "", tags: {} };

describe("cost rules", () => {
  it("accepts real calendar days only", () => {
    expect(["2024-01-15", "2024-02-29", "2000-02-29", "0001-01-01"].every(isCalendarDate)).toBe(true);
    expect(["2023-02-29", "1900-02-29", "2024-04-31", "2024-00-10", "0000-01-01", "15-01-2024", "2024-1-1", "2024-01-15 "].some(isCalendarDate)).toBe(false);
  });

  it("keeps the decimal the client wrote and defaults the currency", () => {
    expect(checkCost(row)).toEqual({ ok: true, row: { ...row, cost: "12.5", currency: "USD" } });
    const tenth = checkCost({ ...row, cost: 0.1, currency: "eur" });
    expect(tenth.ok && tenth.row).toMatchObject({ cost: "0.1", currency: "EUR" });
  });

  it("names the field and the value of the seed's errors", () => {
    expect(checkCost({ ...row, cost: -5.0 })).toEqual({ ok: false, problem: { parameter: "cost", value: -5, message: "Cost must be a positive number" } });
    expect(checkCost({ ...row, date: "15-01-2024" })).toEqual({ ok: false, problem: { parameter: "date", value: "15-01-2024", message: "Date must be in YYYY-MM-DD format" } });
    expect(checkCost({ ...row, cost: Number.NaN })).toMatchObject({ ok: false, problem: { parameter: "cost", value: "NaN" } });
  });

  it("refuses a cost with more decimals than numeric(20,6) keeps instead of rounding it (issue 22)", () => {
    for (const cost of [5e-7, 1e-7, 1.2345678]) {
      expect(checkCost({ ...row, cost })).toEqual({
        ok: false,
        problem: { parameter: "cost", value: cost, message: "Cost has more than 6 decimal places, which is more precision than is stored" },
      });
    }
    expect(checkCost({ ...row, cost: 0.000001 })).toMatchObject({ ok: true, row: { cost: "0.000001" } });
    // Floating-point noise past a double's 15 significant digits is not precision the client meant.
    expect(checkCost({ ...row, cost: 0.1 + 0.2 })).toMatchObject({ ok: true, row: { cost: "0.3" } });
    expect(checkCost({ ...row, cost: 1.1 * 3 })).toMatchObject({ ok: true, row: { cost: "3.3" } });
    expect(checkCost({ ...row, cost: 123456.123456 })).toMatchObject({ ok: true, row: { cost: "123456.123456" } });
    expect([12.5, 5e-7, 1.25e-7, 0, 1e20].map(costDecimalPlaces)).toEqual([1, 7, 9, 0, 0]);
  });

  it("refuses text Postgres cannot store", () => {
    expect(checkCost({ ...row, resourceId: "vm\u0000" })).toMatchObject({ ok: false, problem: { parameter: "resource_id" } });
    expect(checkCost({ ...row, region: "\uD800" })).toMatchObject({ ok: false, problem: { parameter: "region" } });
    expect(checkCost({ ...row, tags: { a: "\uDC00x" } })).toMatchObject({ ok: false, problem: { parameter: "tags.a" } });
    expect(checkCost({ ...row, region: "😀" }).ok).toBe(true);
  });

  it("parses group_by keys", () => {
    expect(parseGroupBy(["region", "tags.cluster", "tags.a.b"])).toEqual([
      { key: "region", column: "region" },
      { key: "tags.cluster", tag: "cluster" },
      { key: "tags.a.b", tag: "a.b" },
    ]);
    expect(() => parseGroupBy(["tags."])).toThrow();
    expect(() => parseGroupBy(["region", "region"])).toThrow();
    expect(() => parseGroupBy(["cost"])).toThrow();
  });
});
