import { PlatformError } from "@cloudforet/errors";
import { describe, expect, it } from "vitest";
import { matchesFilters, readMatchFilters } from "./match-filters";

const keys = ["provider", "cloud_service_type", "account", "name", "data.*", "tags.*"];
const read = (filter: unknown[], filterOr: unknown[] = []) => readMatchFilters({ filter, filter_or: filterOr }, { keys, parameter: "conditions" });

const vm = {
  provider: "nutanix",
  cloud_service_type: "compute.Instance",
  account: "sa-prod",
  name: "Prod-Web-01",
  data: { cluster: "cluster-a", cpu_cores: 8, memory_gb: "32", power_state: "ON", nics: ["nic-1", "nic-2"], created_at: "2024-01-10T00:00:00Z" },
  tags: { env: "prod" },
};
const match = (filter: unknown[], filterOr: unknown[] = []) => matchesFilters(vm, read(filter, filterOr), new Date("2024-01-20T00:00:00Z"));

describe("in-memory filters", () => {
  it("eq, not and in compare JSON values; a number equals its text", () => {
    expect(match([{ k: "provider", v: "nutanix" }])).toBe(true);
    expect(match([{ k: "provider", v: "aws" }])).toBe(false);
    expect(match([{ k: "data.memory_gb", v: 32 }])).toBe(true);
    expect(match([{ k: "tags.team", v: "x", o: "not" }])).toBe(true);
    expect(match([{ k: "tags.env", v: "prod", o: "not" }])).toBe(false);
    expect(match([{ k: "data.cluster", v: ["cluster-b", "cluster-a"], o: "in" }])).toBe(true);
    expect(match([{ k: "data.cluster", v: ["cluster-b"], o: "not_in" }])).toBe(true);
    expect(match([{ k: "tags.missing", v: null }])).toBe(true);
  });

  it("comparisons order numbers as numbers and strings as text; between is inclusive", () => {
    expect(match([{ k: "data.cpu_cores", v: 8, o: "gte" }])).toBe(true);
    expect(match([{ k: "data.cpu_cores", v: 10, o: "lt" }])).toBe(true);
    expect(match([{ k: "data.cpu_cores", v: 8, o: "gt" }])).toBe(false);
    expect(match([{ k: "data.memory_gb", v: [16, 32], o: "between" }])).toBe(true);
    expect(match([{ k: "name", v: "Q", o: "lt" }])).toBe(true);
    expect(match([{ k: "data.absent", v: 1, o: "lt" }])).toBe(false);
  });

  it("contain is a case-insensitive substring, or membership in an array; exists and regex", () => {
    expect(match([{ k: "name", v: "web", o: "contain" }])).toBe(true);
    expect(match([{ k: "name", v: "db", o: "not_contain" }])).toBe(true);
    expect(match([{ k: "data.nics", v: "nic-2", o: "contain" }])).toBe(true);
    expect(match([{ k: "data.nics", v: "nic", o: "contain" }])).toBe(false);
    expect(match([{ k: "name", v: ["db", "WEB"], o: "contain_in" }])).toBe(true);
    expect(match([{ k: "tags.env", v: true, o: "exists" }])).toBe(true);
    expect(match([{ k: "tags.team", v: false, o: "exists" }])).toBe(true);
    expect(match([{ k: "name", v: "^Prod-[A-Za-z]+-\\d+$", o: "regex" }])).toBe(true);
  });

  it("datetime and timediff operators", () => {
    expect(match([{ k: "data.created_at", v: "2024-01-15T00:00:00Z", o: "datetime_lt" }])).toBe(true);
    expect(match([{ k: "data.created_at", v: "now/d-7d", o: "timediff_lt" }])).toBe(true);
    expect(match([{ k: "data.created_at", v: "now/d-14d", o: "timediff_lt" }])).toBe(false);
  });

  it("filter is AND, filter_or is OR", () => {
    expect(match([{ k: "provider", v: "nutanix" }, { k: "tags.env", v: "dev" }])).toBe(false);
    expect(match([{ k: "provider", v: "nutanix" }], [{ k: "tags.env", v: "dev" }, { k: "data.cluster", v: "cluster-a" }])).toBe(true);
    expect(match([], [{ k: "tags.env", v: "dev" }])).toBe(false);
  });

  it("refuses unknown keys, wrong values and runaway regexes, naming the filter", () => {
    const problem = (filter: unknown[]) => {
      try {
        read(filter);
      } catch (err) {
        expect(err).toBeInstanceOf(PlatformError);
        return (err as PlatformError).metadata.parameter;
      }
      return "accepted";
    };
    expect(problem([{ k: "state", v: "x" }])).toBe("conditions.filter[0]");
    expect(problem([{ k: "provider", v: "x" }, { k: "data", v: "x" }])).toBe("conditions.filter[1]");
    expect(problem([{ k: "data.x", v: 1, o: "sideways" }])).toBe("conditions.filter[0]");
    expect(problem([{ k: "data.x", v: "1", o: "in" }])).toBe("conditions.filter[0]");
    expect(problem([{ k: "data.x", v: "(a+)+$", o: "regex" }])).toBe("conditions.filter[0]");
    expect(problem([{ k: "data.x", v: "soon", o: "timediff_lt" }])).toBe("conditions.filter[0]");
    expect(problem([{ k: "data.x", o: "eq" }])).toBe("conditions.filter[0]");
    expect(problem([{ k: "data.x", v: 1 }])).toBe("accepted");
  });
});
