// cfctl's pure parts: filter parsing, table layout, the progress line, ${VAR} expansion.
import { create, type JsonObject } from "@bufbuild/protobuf";
import { Job_Status, JobSchema } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { describe, expect, it } from "vitest";
// The CLI package's exports (tests/ does not depend on @cloudforet/cli, so by its index's path).
import { expandEnv, parseFilter, parseSort, progressLine, renderTable, UsageError } from "../../packages/cli/src/index";

describe("--filter", () => {
  it("maps each operator to the query language", () => {
    expect(parseFilter("provider=nutanix", "list")).toEqual({ k: "provider", o: "eq", v: "nutanix" });
    expect(parseFilter("state!=DELETED", "list")).toEqual({ k: "state", o: "not", v: "DELETED" });
    expect(parseFilter("data.cpu_cores>=4", "list")).toEqual({ k: "data.cpu_cores", o: "gte", v: 4 });
    expect(parseFilter("data.memory_gb<2.5", "list")).toEqual({ k: "data.memory_gb", o: "lt", v: 2.5 });
    expect(parseFilter("created_at>2024-01-01", "list")).toEqual({ k: "created_at", o: "gt", v: "2024-01-01" });
    expect(parseFilter("name~prod", "list")).toEqual({ k: "name", o: "contain", v: "prod" });
    expect(parseFilter("name!~test", "list")).toEqual({ k: "name", o: "not_contain", v: "test" });
    expect(parseFilter("state=ON|OFF", "list")).toEqual({ k: "state", o: "in", v: ["ON", "OFF"] });
    expect(parseFilter("tags.env=a=b", "list")).toEqual({ k: "tags.env", o: "eq", v: "a=b" });
    expect(parseSort("-name")).toEqual({ key: "name", desc: true });
    for (const bad of ["novalue", "=x", "bad key=1"]) expect(() => parseFilter(bad, "list")).toThrow(UsageError);
  });
});

describe("tables", () => {
  const rows: JsonObject[] = [
    { id: "cs-1", name: "vm-prod-web-01", data: { cluster: "cluster-prod-01", tags: ["a", "b"] } },
    { id: "cs-22", name: "vm-db", data: { cluster: null } },
  ];

  it("align columns under upper-case headers; lists comma-joined, missing values empty", () => {
    expect(renderTable(rows, ["id", "name", "data.cluster", "data.tags"])).toBe(
      ["ID     NAME            DATA.CLUSTER     DATA.TAGS", "cs-1   vm-prod-web-01  cluster-prod-01  a,b", "cs-22  vm-db"].join("\n") + "\n",
    );
  });

  it("narrow the widest columns to the terminal's width, cutting cells with …", () => {
    const text = renderTable(rows, ["id", "name", "data.cluster"], 30);
    for (const line of text.trimEnd().split("\n")) expect(line.length).toBeLessThanOrEqual(30);
    expect(text).toContain("…");
    expect(text.split("\n")[1].startsWith("cs-1   ")).toBe(true);
  });
});

describe("job progress", () => {
  const job = create(JobSchema, { jobId: "job-1", status: Job_Status.IN_PROGRESS, progress: 50, totalTaskCount: 2, succeededTaskCount: 1, createdCount: 12, errorCount: 1 });

  it("is a bar on a terminal and a plain line otherwise", () => {
    expect(progressLine(job, true)).toBe("[############------------]  50%  tasks 1/2  created 12  updated 0  failed 1  IN_PROGRESS");
    expect(progressLine(job, false)).toBe("job-1 IN_PROGRESS 50% tasks 1/2 created=12 updated=0 failed=1");
  });
});

describe("${VAR} in apply files", () => {
  it("expands from the environment, with defaults, and refuses unset variables", () => {
    const env = { URL: "http://x:1" };
    expect(expandEnv({ a: "${URL}/p", b: ["${MISSING:-d}"], c: 3 }, env, "f#1")).toEqual({ a: "http://x:1/p", b: ["d"], c: 3 });
    expect(() => expandEnv("${MISSING}", env, "f#1")).toThrow("f#1: ${MISSING} is not set");
  });
});
