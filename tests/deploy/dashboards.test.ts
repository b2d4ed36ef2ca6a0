import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { notificationModule } from "@cloudforet/notification";
import { createOrchestrationModule } from "@cloudforet/orchestration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

/**
 * Issue 20 §2: every metric a Grafana dashboard in deploy/grafana/ queries is one the services
 * really export. The services run in this process (identity, notification, orchestration: RPCs,
 * service clients, breakers, outbox relays and the engine), and their /metrics are scraped.
 */
const grafanaDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../deploy/grafana");
const dashboards = readdirSync(grafanaDir)
  .filter((file) => file.endsWith(".json"))
  .map((file) => ({ file, json: JSON.parse(readFileSync(path.join(grafanaDir, file), "utf8")) as Dashboard }));

interface Dashboard {
  uid: string;
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ type: string; query: unknown }> };
}

/** Every PromQL expression of a dashboard: panel targets and query variables. */
function expressions(dashboard: Dashboard): string[] {
  const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr));
  const variables = dashboard.templating.list
    .filter((v) => v.type === "query")
    .map((v) => (typeof v.query === "string" ? v.query : (v.query as { query: string }).query));
  return [...targets, ...variables];
}

const keywords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "or", "and", "unless", "offset"]);

/** The metric names an expression selects (strings, matchers, ranges, grouping and function names removed). */
export function metricNames(expr: string): string[] {
  const labelValues = /label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/.exec(expr);
  if (labelValues) return [labelValues[1]];
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names: string[] = [];
  for (const match of bare.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const after = bare.slice(match.index + match[0].length);
    if (/^\s*\(/.test(after) || keywords.has(match[0])) continue; // a function or an operator
    names.push(match[0]);
  }
  return names;
}

/** Names a scrape exposes: each `# TYPE`, with a histogram's _bucket/_sum/_count series. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(name + suffix);
  }
  return names;
}

let platform: TestPlatform;
const scraped: string[] = [];

beforeAll(async () => {
  const orchestration = createOrchestrationModule();
  platform = await startTestPlatform({ modules: [notificationModule, orchestration], env: { ORCHESTRATION_HTTP_ADDR: "127.0.0.1:0" } });
  // One call per service, so labelled series have samples, not only their TYPE line.
  for (const name of ["identity", "notification", "orchestration"]) {
    await fetch(`${platform.url(name)}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  }
  const targets = [...["identity", "notification", "orchestration"].map((name) => `${platform.url(name)}/metrics`), `${orchestration.restUrl()}/metrics`];
  for (const url of targets) {
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    scraped.push(await res.text());
  }
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

describe("metric name extraction", () => {
  it("finds the selected metrics and nothing else", () => {
    expect(metricNames('histogram_quantile(0.99, sum by (service, le) (rate(grpc_server_handling_seconds_bucket{service=~"$service"}[$__rate_interval])))')).toEqual([
      "grpc_server_handling_seconds_bucket",
    ]);
    expect(metricNames('count(max by (upstream) (cloudforet_circuit_breaker_state{state="open"}) == 1) or vector(0)')).toEqual(["cloudforet_circuit_breaker_state"]);
    expect(metricNames("sum(a_total) - sum(b_total)")).toEqual(["a_total", "b_total"]);
    expect(metricNames("label_values(grpc_server_handled_total, service)")).toEqual(["grpc_server_handled_total"]);
  });
});

describe("Grafana dashboards", () => {
  it("are there: the platform and the engine", () => {
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual(["cloudforet-engine", "cloudforet-platform"]);
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))("%s queries only metrics the services export", (_file, dashboard) => {
    const exposed = exposedNames(scraped.join("\n"));
    const used = expressions(dashboard).flatMap(metricNames);
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((name) => !exposed.has(name))).toEqual([]);
  });

  it("scrapes are valid: no metric declared twice (the shared series never clash with a service's own)", () => {
    for (const text of scraped) {
      const declared = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
      expect(declared.length - new Set(declared).size).toBe(0);
    }
  });

  it("exports the standard gRPC series, the breaker states and the outbox lag with their labels", () => {
    const all = scraped.join("\n");
    expect(all).toMatch(/^grpc_server_handled_total\{grpc_service="grpc\.health\.v1\.Health",grpc_method="Check",grpc_type="unary",grpc_code="OK",service="identity"\} \d+/m);
    expect(all).toMatch(/^grpc_server_started_total\{grpc_service="grpc\.health\.v1\.Health",grpc_method="Check",grpc_type="unary",service="notification"\} \d+/m);
    expect(all).toMatch(/^cloudforet_outbox_pending\{outbox="notification\.outbox"\} \d+/m);
    expect(all).toMatch(/^cloudforet_outbox_oldest_age_seconds\{outbox="orchestration\.outbox"\} [\d.e+-]+/m);
    expect(all).toMatch(/^# TYPE cloudforet_circuit_breaker_state gauge/m);
    expect(all).toMatch(/^# TYPE grpc_client_handled_total counter/m);
  });
});
