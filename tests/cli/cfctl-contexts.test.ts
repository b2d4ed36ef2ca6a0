// cfctl as people expect a kubectl-like tool: named contexts (an older config file migrated
// transparently), shell completion, -o wide|name|jsonpath, apply --dry-run and diff — spawned
// cfctl processes against a real identity service.
import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { createApiKeyUser } from "../sdk/support";
import { runCfctl, tempConfigDir, type CfctlRun } from "./support";

let platform: TestPlatform;
let config: { path: string; cleanup: () => Promise<void> };
let apiKey: string;
let otherKey: string;
let env: Record<string, string>;

const cfctl = (args: string[], extraEnv: Record<string, string> = {}, input = "") => runCfctl(args, { ...env, ...extraEnv }, input);
/** Credentials from the environment, so these tests need no saved context. */
const asAdmin = () => ({ CLOUDFORET_API_KEY: apiKey, CLOUDFORET_USER_ID: "ctx-admin" });
const ok = (run: CfctlRun) => {
  expect(run.stderr, "stderr of a successful run").toBe("");
  expect(run.code).toBe(0);
  return run.stdout;
};

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [] });
  apiKey = await createApiKeyUser(platform, "ctx-admin");
  otherKey = await createApiKeyUser(platform, "ctx-other");
  const workspaces = platform.client(WorkspaceService);
  await workspaces.create({ workspaceId: "ws-ctx-a", name: "Alpha", tags: { env: "dev" } });
  await workspaces.create({ workspaceId: "ws-ctx-b", name: "Beta" });
  config = await tempConfigDir();
  // The services' URLs come from the environment; the contexts hold who cfctl calls as.
  env = { CFCTL_CONFIG: config.path, CLOUDFORET_IDENTITY_URL: platform.url("identity") };
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await config?.cleanup();
});

describe("contexts", () => {
  it("an older single-context file reads as the context 'default', untouched until cfctl writes", async () => {
    const legacy = `# cfctl configuration, written by cfctl login\n${YAML.stringify({ url: "http://127.0.0.1", domain_id: "domain-default", user_id: "ctx-admin", api_key: apiKey })}`;
    await writeFile(config.path, legacy, { mode: 0o600 });
    expect(ok(await cfctl(["config", "get-contexts"]))).toBe(
      "CURRENT  NAME     URL               USER       DOMAIN          CREDENTIALS\n*        default  http://127.0.0.1  ctx-admin  domain-default  api key\n",
    );
    expect(ok(await cfctl(["config", "current-context"]))).toBe("default\n");
    expect(ok(await cfctl(["whoami", "-o", "json"]))).toContain('"user_id": "ctx-admin"');
    expect(await readFile(config.path, "utf8")).toBe(legacy);
  });

  it("set-context, use-context and CFCTL_CONTEXT pick who cfctl calls as; the file is migrated on write", async () => {
    const keyFile = join(dirname(config.path), "other.key");
    await writeFile(config.path.replace(/config\.yaml$/, "other.key"), `${otherKey}\n`, { mode: 0o600 });
    expect(ok(await cfctl(["config", "set-context", "other", "--endpoint", "http://127.0.0.1", "--user", "ctx-other", "--api-key-file", keyFile]))).toBe('Context "other" created.\n');
    expect(ok(await cfctl(["config", "get-contexts", "-o", "name"]))).toBe("default\nother\n");
    const migrated = YAML.parse(await readFile(config.path, "utf8"));
    expect(migrated).toEqual({
      "current-context": "default",
      contexts: {
        default: { url: "http://127.0.0.1", domain_id: "domain-default", user_id: "ctx-admin", api_key: apiKey },
        other: { url: "http://127.0.0.1", user_id: "ctx-other", api_key_file: keyFile },
      },
    });
    expect(JSON.stringify(migrated)).not.toContain(otherKey);

    expect(ok(await cfctl(["config", "use-context", "other"]))).toBe('Switched to context "other".\n');
    expect(ok(await cfctl(["config", "current-context"]))).toBe("other\n");
    expect(JSON.parse(ok(await cfctl(["whoami", "-o", "json"])))).toMatchObject({ user_id: "ctx-other" });
    expect(JSON.parse(ok(await cfctl(["whoami", "-o", "json"], { CFCTL_CONTEXT: "default" })))).toMatchObject({ user_id: "ctx-admin" });

    const missing = await cfctl(["config", "use-context", "nope"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: no context "nope"/);
    const unknown = await cfctl(["list", "workspaces"], { CFCTL_CONTEXT: "nope" });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: ERROR_NOT_FOUND: no context "nope"/);

    expect(ok(await cfctl(["config", "delete-context", "other"]))).toBe('Deleted context "other".\n');
    expect(ok(await cfctl(["config", "use-context", "default"]))).toBe('Switched to context "default".\n');
  });
});

describe("completion", () => {
  it("bash: the script completes commands, resources and outputs when sourced", async () => {
    const script = ok(await cfctl(["completion", "bash"]));
    expect(script).toContain("complete -F _cfctl cfctl");
    const complete = (line: string[]) => {
      const probe = `${script}\nCOMP_WORDS=(${line.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${line.length - 1}; _cfctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const result = spawnSync("bash", ["-c", probe], { encoding: "utf8" });
      expect(result.stderr).toBe("");
      return result.stdout.trim().split("\n");
    };
    expect(complete(["cfctl", "ap"])).toEqual(["apply"]);
    expect(complete(["cfctl", "co"]).sort()).toEqual(["collect", "completion", "config"]);
    expect(complete(["cfctl", "list", "work"])).toEqual(["workspaces", "workspace"]);
    expect(complete(["cfctl", "get", "cs", "x", "-o", "j"]).sort()).toEqual(["json", "jsonpath="]);
    expect(complete(["cfctl", "config", "use"])).toEqual(["use-context"]);
  });

  it("zsh and fish get scripts of their own; another shell is a usage error", async () => {
    expect(ok(await cfctl(["completion", "zsh"]))).toMatch(/^#compdef cfctl\nautoload -U \+X bashcompinit && bashcompinit\n[\s\S]*complete -F _cfctl cfctl\n$/);
    const fish = ok(await cfctl(["completion", "fish"]));
    expect(fish).toContain('complete -c cfctl -n "__fish_use_subcommand" -a "login logout');
    expect(fish).toContain("complete -c cfctl -s o -l output -x -a \"table wide json yaml name jsonpath=\"");
    const bad = await cfctl(["completion", "tcsh"]);
    expect(bad.code).toBe(2);
  });
});

describe("output modes", () => {
  it("-o name, jsonpath and wide", async () => {
    const filter = ["--filter", "workspace_id=ws-ctx-a|ws-ctx-b", "--sort", "workspace_id"];
    // Independent processes: run together, so a loaded machine does not add their start-ups up.
    const [name, jsonpath, jsonpathPair, getOne, wideOut, bad] = await Promise.all([
      cfctl(["list", "workspaces", ...filter, "-o", "name"], asAdmin()),
      cfctl(["list", "workspaces", ...filter, "-o", "jsonpath={.items[*].name}"]),
      cfctl(["list", "workspaces", ...filter, "-o", "jsonpath={.items[0].workspace_id}:{.items[0].tags.env}"], asAdmin()),
      cfctl(["get", "workspace", "ws-ctx-b", "-o", "jsonpath={.name}"], asAdmin()),
      cfctl(["list", "workspaces", ...filter, "-o", "wide"], asAdmin()),
      cfctl(["list", "workspaces", "-o", "xml"], asAdmin()),
    ]);
    expect(ok(name)).toBe("workspace/ws-ctx-a\nworkspace/ws-ctx-b\n");
    expect(ok(jsonpath)).toBe("Alpha Beta\n");
    expect(ok(jsonpathPair)).toBe("ws-ctx-a:dev\n");
    expect(ok(getOne)).toBe("Beta\n");
    const wide = ok(wideOut).split("\n");
    expect(wide[0]).toMatch(/^WORKSPACE_ID +NAME +STATE +CREATED_AT +.*DOMAIN_ID/);
    expect(wide[1]).toMatch(/^ws-ctx-a +Alpha /);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/-o must be table, wide, json, yaml, name or jsonpath=TEMPLATE/);
  }, 90_000);
});

describe("apply --dry-run and diff", () => {
  const file = () => join(dirname(config.path), "workspaces.yaml");
  const documents = (envTag: string, team = true) =>
    [
      { kind: "Workspace", metadata: { name: "ws-ctx-a" }, spec: { name: "Alpha", tags: { env: envTag, ...(team ? { team: "ops" } : {}) } } },
      { kind: "Workspace", metadata: { name: "ws-ctx-new" }, spec: { name: "New one" } },
      { kind: "Workspace", metadata: { name: "ws-ctx-b" }, spec: { name: "Beta" } },
    ]
      .map((d) => YAML.stringify(d))
      .join("---\n");

  it("a dry run says what would change and changes nothing; diff shows the fields", async () => {
    await writeFile(file(), documents("prod"));
    expect(ok(await cfctl(["apply", "-f", file(), "--dry-run"], asAdmin()))).toBe(
      "workspace/ws-ctx-a updated (dry run)\nworkspace/ws-ctx-new created (dry run)\nworkspace/ws-ctx-b unchanged (dry run)\n",
    );
    const workspaces = platform.client(WorkspaceService);
    expect((await workspaces.get({ workspaceId: "ws-ctx-a" })).tags).toEqual({ env: "dev" });
    await expect(workspaces.get({ workspaceId: "ws-ctx-new" })).rejects.toThrow(/not found/i);

    const diff = await cfctl(["diff", "-f", file()], asAdmin());
    expect(diff).toEqual({
      code: 1,
      stderr: "",
      stdout: [
        "workspace/ws-ctx-a (would be updated)",
        '  ~ tags.env: "dev" → "prod"',
        '  + tags.team: "ops"',
        "workspace/ws-ctx-new (would be created)",
        '  + workspace_id: "ws-ctx-new"',
        '  + name: "New one"',
        "",
      ].join("\n"),
    });
  });

  it("after the apply, diff finds no differences and exits 0", async () => {
    await writeFile(file(), documents("prod"));
    expect(ok(await cfctl(["apply", "-f", file()], asAdmin()))).toBe("workspace/ws-ctx-a updated\nworkspace/ws-ctx-new created\nworkspace/ws-ctx-b unchanged\n");
    expect(ok(await cfctl(["diff", "-f", file()], asAdmin()))).toBe("No differences.\n");
    await writeFile(file(), documents("prod", false));
    const removed = await cfctl(["diff", "-f", file()], asAdmin());
    expect(removed.stderr).toBe("");
    expect(removed).toMatchObject({ code: 1, stdout: 'workspace/ws-ctx-a (would be updated)\n  - tags.team: "ops"\n' });
  });
});
