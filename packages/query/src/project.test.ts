import { describe, expect, it } from "vitest";
import { project } from "./project";

const row = {
  id: "cs-1",
  name: "web",
  data: { cluster: "c1", cpu_cores: 8, disks: [{ size: 10, kind: "ssd" }, { size: 20 }, "raw"], nested: { a: { b: 1, c: 2 } } },
  tags: { env: "prod" },
};

describe("project", () => {
  it("keeps the row when only is empty", () => {
    expect(project(row, [])).toBe(row);
  });

  it("keeps top-level fields", () => {
    expect(project(row, ["id", "name"])).toEqual({ id: "cs-1", name: "web" });
  });

  it("keeps only the named keys inside a JSON field", () => {
    expect(project(row, ["data.cluster", "data.nested.a.b"])).toEqual({ data: { cluster: "c1", nested: { a: { b: 1 } } } });
  });

  it("lets a whole field absorb a path into it, in either order", () => {
    expect(project(row, ["data.cluster", "data"])).toEqual({ data: row.data });
    expect(project(row, ["data", "data.cluster"])).toEqual({ data: row.data });
  });

  it("trims each object of an array", () => {
    expect(project(row, ["data.disks.size"])).toEqual({ data: { disks: [{ size: 10 }, { size: 20 }] } });
    expect(project(row, ["data.disks.size", "data.disks.kind"])).toEqual({ data: { disks: [{ size: 10, kind: "ssd" }, { size: 20 }] } });
  });

  it("leaves out absent paths", () => {
    expect(project(row, ["id", "data.missing", "missing", "name.length"])).toEqual({ id: "cs-1" });
  });

  it("does not modify the row, and keeps a __proto__ key as data", () => {
    const hostile = JSON.parse('{"data": {"__proto__": {"polluted": true}, "x": 1}}') as Record<string, unknown>;
    const projected = project(hostile, ["data.__proto__", "data.x"]);
    expect(Object.keys(projected.data as object)).toEqual(["__proto__", "x"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(project(row, ["data.cluster"])).not.toBe(row);
    expect(row.data.cpu_cores).toBe(8);
  });
});
