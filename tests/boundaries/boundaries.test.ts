// The architecture boundaries check (.dependency-cruiser.cjs, `pnpm check:boundaries`): each rule
// fails on a violation planted in a small tree of its own (written to a temp directory, so neither
// tsc nor the real check sees it), what the house rules allow passes, and the real tree passes.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const depcruise = path.join(root, "node_modules/.bin/depcruise");
const config = path.join(root, ".dependency-cruiser.cjs");

/** The planted tree: path → source. Names are the real ones, so the rules' patterns apply as they do to the repo. */
const FIXTURE: Record<string, string> = {
  "tsconfig.json": JSON.stringify({
    compilerOptions: {
      module: "ESNext",
      moduleResolution: "Bundler",
      target: "ES2022",
      baseUrl: ".",
      // As pnpm's symlinks do in the repo: a workspace name resolves to the package's index.
      paths: {
        "@cloudforet/proto/*": ["packages/proto/src/gen/*"],
        "@cloudforet/cost": ["services/cost/src/index.ts"],
        "@cloudforet/identity": ["services/identity/src/index.ts"],
        "@cloudforet/sdk": ["packages/sdk/src/index.ts"],
        "@cloudforet/db": ["packages/db/src/index.ts"],
      },
    },
  }),
  "packages/proto/src/gen/cloudforet/cost/v1/cost_pb.ts": `export const CostSchema = {};\n`,
  "services/identity/src/index.ts": `export const identity = 1;\n`,
  "services/cost/src/index.ts": `export const cost = 1;\n`,
  // Allowed: a service imports packages (server-side ones too) and generated code by its subpath.
  "services/cost/src/allowed.ts": `import { db } from "@cloudforet/db";\nimport { CostSchema } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";\nexport const allowed = [db, CostSchema];\n`,
  // Violations: another service by path, by its (resolving) package name, by a name that does not resolve.
  "services/cost/src/by-path.ts": `import { identity } from "../../identity/src/index";\nexport const a = identity;\n`,
  "services/cost/src/by-name.ts": `import { identity } from "@cloudforet/identity";\nexport const b = identity;\n`,
  "services/cost/src/unresolved-name.ts": `import { monitoring } from "@cloudforet/monitoring";\nexport const c = monitoring;\n`,
  // A package importing a service.
  "packages/db/src/index.ts": `export const db = 1;\n`,
  "packages/db/src/uses-service.ts": `import { cost } from "../../../services/cost/src/index";\nexport const d = cost;\n`,
  // A client-side package importing a server-side one (a type-only import counts too).
  "packages/sdk/src/index.ts": `export const sdk = 1;\n`,
  "packages/sdk/src/internal.ts": `export const secret = 1;\n`,
  "packages/sdk/src/uses-db.ts": `import type { db } from "@cloudforet/db";\nexport type D = typeof db;\n`,
  // Reaching into another package's src/ instead of its index.
  "packages/errors/src/index.ts": `import { secret } from "../../sdk/src/internal";\nimport { sdk } from "@cloudforet/sdk";\nexport const e = [secret, sdk];\n`,
  // A cycle, and a type-only one.
  "packages/events/src/ping.ts": `import { pong } from "./pong";\nexport const ping = () => pong;\n`,
  "packages/events/src/pong.ts": `import { ping } from "./ping";\nexport const pong = () => ping;\n`,
  "packages/events/src/left.ts": `import type { Right } from "./right";\nexport interface Left { right?: Right }\n`,
  "packages/events/src/right.ts": `import type { Left } from "./left";\nexport interface Right { left?: Left }\n`,
  // Allowed: tests/ (not a service) imports services, by name and by path.
  "tests/cost/e2e.ts": `import { cost } from "@cloudforet/cost";\nimport { identity } from "../../services/identity/src/index";\nexport const t = [cost, identity];\n`,
};

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function cruise(cwd: string, args: string[]) {
  // Plain text whatever the terminal: with CI=true the reporter would colour its lines.
  const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };
  return spawnSync(depcruise, ["--config", config, ...args], { cwd, env, encoding: "utf8", timeout: 60_000 });
}

let dir: string;
let violations: Violation[];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "boundaries-"));
  for (const [file, text] of Object.entries(FIXTURE)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  const result = cruise(dir, ["--output-type", "json", "packages", "services", "tests"]);
  expect(result.stderr).toBe("");
  violations = JSON.parse(result.stdout).summary.violations;
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const found = (rule: string) => violations.filter((v) => v.rule.name === rule).map((v) => `${v.from} → ${v.to}`);

describe("the boundaries check on planted violations", () => {
  it("no-cross-service: a service importing another service, by path or by package name", () => {
    expect(found("no-cross-service")).toEqual(
      expect.arrayContaining(["services/cost/src/by-path.ts → services/identity/src/index.ts", "services/cost/src/by-name.ts → services/identity/src/index.ts"]),
    );
    expect(found("no-cross-service-by-name")).toEqual(["services/cost/src/unresolved-name.ts → @cloudforet/monitoring"]);
    expect(found("no-unresolvable")).toEqual(["services/cost/src/unresolved-name.ts → @cloudforet/monitoring"]);
  });

  it("no-package-to-service: a package importing a service", () => {
    expect(found("no-package-to-service")).toEqual(["packages/db/src/uses-service.ts → services/cost/src/index.ts"]);
  });

  it("no-client-to-server: a client-side package importing a server-side one, even for types", () => {
    expect(found("no-client-to-server")).toEqual(["packages/sdk/src/uses-db.ts → packages/db/src/index.ts"]);
  });

  it("no-package-internals: a path into another package's src/ (its index and generated code are fine)", () => {
    expect(found("no-package-internals")).toEqual(["packages/errors/src/index.ts → packages/sdk/src/internal.ts"]);
  });

  it("no-circular: an import cycle, a type-only one included", () => {
    const cycles = found("no-circular");
    expect(cycles).toEqual(expect.arrayContaining([expect.stringMatching(/^packages\/events\/src\/(ping|pong)\.ts → /), expect.stringMatching(/^packages\/events\/src\/(left|right)\.ts → /)]));
    expect(cycles.every((c) => c.startsWith("packages/events/"))).toBe(true);
  });

  it("fails (a non-zero exit, which is what CI sees) with the reporter the check uses", () => {
    const result = cruise(dir, ["--output-type", "err", "packages", "services", "tests"]);
    expect(result.status).toBe(violations.length);
    expect(result.stdout).toContain("error no-cross-service:");
  }, 60_000);

  it("reports nothing else: tests/ may import services, services may import packages and generated code", () => {
    const from = new Set(violations.map((v) => v.from));
    expect(from.has("tests/cost/e2e.ts")).toBe(false);
    expect(from.has("services/cost/src/allowed.ts")).toBe(false);
    expect(new Set(violations.map((v) => v.rule.name))).toEqual(
      new Set(["no-cross-service", "no-cross-service-by-name", "no-unresolvable", "no-package-to-service", "no-client-to-server", "no-package-internals", "no-circular"]),
    );
  });
});

describe("the real tree", () => {
  it("passes the boundaries check", () => {
    const result = cruise(root, ["--output-type", "err", "packages", "services", "plugins", "apps", "tests", "bench", "scripts"]);
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  }, 60_000);

  it("has no cycle between workspace packages (dependencies and devDependencies)", () => {
    const dirs = ["packages", "services", "plugins"].flatMap((d) => readdirSync(path.join(root, d)).map((p) => path.join(root, d, p)));
    const graph = new Map<string, string[]>();
    for (const d of [...dirs, path.join(root, "tests"), path.join(root, "bench")]) {
      let pkg: { name: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      try {
        pkg = JSON.parse(readFileSync(path.join(d, "package.json"), "utf8"));
      } catch {
        continue;
      }
      const deps = { ...pkg.dependencies, ...pkg.devDependencies };
      graph.set(pkg.name, Object.keys(deps).filter((name) => deps[name].startsWith("workspace:")));
    }
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (name: string, trail: string[]) => {
      if (state.get(name) === "done") return;
      if (state.get(name) === "visiting") {
        cycles.push([...trail.slice(trail.indexOf(name)), name].join(" → "));
        return;
      }
      state.set(name, "visiting");
      for (const dep of graph.get(name) ?? []) visit(dep, [...trail, name]);
      state.set(name, "done");
    };
    for (const name of graph.keys()) visit(name, []);
    expect(cycles).toEqual([]);
  });
});
