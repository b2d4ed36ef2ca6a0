import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Client } from "@cloudforet/sdk";
import Decimal from "decimal.js";
import { UsageError } from "../cli-error";
import { clientOf, parseCommandArgs, type Command } from "../command";
import { parseFilter } from "../filters";
import { cellText, valueAt } from "../output/json-path";
import { outputFormat, renderList } from "../output/render";
import { resolveResource, type ResourceType, type StatRequest } from "../resources";
import { budgetStatCommand, isBudgetStat } from "./budget-stat";
import { resourceHelp } from "./list";

/** The name a result row gives a group key: its last path segment (`data.cluster` → `cluster`), as the Stat RPC does. */
const keyName = (key: string) => key.split(".").pop() as string;

export const statCommand: Command = {
  name: "stat",
  get help() {
    return `Usage: cfctl stat <resource> --group-by k1,k2 [--filter EXPR ...] [--count | --sum FIELD] [-o table|wide|json|yaml|jsonpath=…]

Groups the matching resources by the values of the --group-by keys and prints one row per
group with its count (default) or the sum of FIELD. Cloud services are aggregated by the
server (CloudServiceService.Stat); other resources are fetched page by page and aggregated
by cfctl.

Options:
  --group-by KEYS    comma-separated fields or dotted paths (data.cluster)
  --filter EXPR      as for cfctl list (repeatable)
  --count            count the resources of each group (default)
  --sum FIELD        sum a numeric field per group instead; sums are exact decimals (money adds
                     up to the cent: 0.1 + 0.2 is 0.3), printed as text when they have decimals
  -o, --output FMT   table (default), json or yaml

Examples:
  cfctl stat cs --group-by cloud_service_type,state
  cfctl stat cs --group-by data.cluster --sum data.cpu_cores --filter provider=nutanix
  cfctl stat jobs --group-by status
  cfctl stat budget <budget-id> [--period YYYY-MM]   (usage, limit and forecast: cfctl stat budget --help)

Resources:
${resourceHelp()}
`;
  },
  async run(ctx) {
    // `cfctl stat budget <id>`: usage against limit, answered by BudgetService.Stat.
    if (isBudgetStat(ctx.argv)) return budgetStatCommand.run(ctx);
    const { values, positionals } = parseCommandArgs(ctx, "stat", {
      "group-by": { type: "string" },
      filter: { type: "string", multiple: true },
      count: { type: "boolean" },
      sum: { type: "string" },
      output: { type: "string", short: "o" },
    });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length !== 1) throw new UsageError("stat takes one resource", "stat");
    const resource = resolveResource(positionals[0], "stat");
    const groupBy = (values["group-by"] ?? "").split(",").map((k) => k.trim()).filter(Boolean);
    if (groupBy.length === 0) throw new UsageError("stat needs --group-by k1,k2", "stat");
    if (values.count && values.sum) throw new UsageError("--count and --sum exclude each other", "stat");
    const format = outputFormat(values.output, "stat");
    const request: StatRequest = { filter: (values.filter ?? []).map((f) => parseFilter(f, "stat")), groupBy, sum: values.sum };
    const client = await clientOf(ctx);
    const rows = resource.stat ? await resource.stat(client, request) : await aggregateLocally(client, resource, request);
    const measure = request.sum ? `sum_${keyName(request.sum)}` : "count";
    renderList(rows, format, [...groupBy.map(keyName), measure], ctx.stdout);
    return 0;
  },
};

/** Groups every matching item (all pages) by the keys' values; counts or sums per group. */
async function aggregateLocally(client: Client, resource: ResourceType, request: StatRequest): Promise<JsonObject[]> {
  if (!resource.list) throw new UsageError(resource.noList ?? `${resource.name} cannot be listed`, "stat");
  const groups = new Map<string, { row: JsonObject; total: Decimal }>();
  const measure = request.sum ? `sum_${keyName(request.sum)}` : "count";
  // Sums are decimal, never binary floating point: a JSON number's shortest text is the decimal
  // the service stored (12.1, not 12.0999…), and decimal.js adds those exactly.
  let places = 0;
  for await (const item of resource.list(client, { filter: request.filter })) {
    const keys: JsonValue[] = request.groupBy.map((k) => valueAt(item, k) ?? null);
    const id = JSON.stringify(keys);
    let group = groups.get(id);
    if (!group) {
      group = { row: Object.fromEntries(request.groupBy.map((k, i) => [keyName(k), keys[i]])), total: new Decimal(0) };
      groups.set(id, group);
    }
    const value = request.sum ? decimalOf(valueAt(item, request.sum)) : new Decimal(1);
    if (value) {
      places = Math.max(places, value.decimalPlaces());
      group.total = group.total.plus(value);
    }
  }
  const rows = [...groups.values()].map(({ row, total }) => ({ row, total }));
  rows.sort((a, b) => b.total.comparedTo(a.total) || compareKeys(a.row, b.row, request.groupBy.map(keyName)));
  return rows.map(({ row, total }) => {
    // Counts and whole sums stay JSON numbers; sums of fractions (money) print as text with the
    // inputs' decimals ("26.5"), so no digit is lost to a double on the way.
    const whole = places === 0 && total.abs().lte(Number.MAX_SAFE_INTEGER);
    row[measure] = whole ? total.toNumber() : total.toFixed(places);
    return row;
  });
}

/** A number or numeric string as an exact decimal; anything else (missing, NaN, text) counts as nothing. */
function decimalOf(value: JsonValue | undefined): Decimal | undefined {
  if (typeof value !== "number" && typeof value !== "string") return undefined;
  if (typeof value === "number" && !Number.isFinite(value)) return undefined;
  try {
    const decimal = new Decimal(typeof value === "number" ? String(value) : value.trim());
    return decimal.isFinite() ? decimal : undefined;
  } catch {
    return undefined;
  }
}

function compareKeys(a: JsonObject, b: JsonObject, keys: string[]): number {
  for (const k of keys) {
    const order = cellText(a[k]).localeCompare(cellText(b[k]));
    if (order !== 0) return order;
  }
  return 0;
}
