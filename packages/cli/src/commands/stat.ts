import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Client } from "@cloudforet/sdk";
import { UsageError } from "../cli-error";
import { clientOf, parseCommandArgs, type Command } from "../command";
import { parseFilter } from "../filters";
import { cellText, valueAt } from "../output/json-path";
import { outputFormat, renderList } from "../output/render";
import { resolveResource, type ResourceType, type StatRequest } from "../resources";
import { resourceHelp } from "./list";

/** The name a result row gives a group key: its last path segment (`data.cluster` → `cluster`), as the Stat RPC does. */
const keyName = (key: string) => key.split(".").pop() as string;

export const statCommand: Command = {
  name: "stat",
  get help() {
    return `Usage: cfctl stat <resource> --group-by k1,k2 [--filter EXPR ...] [--count | --sum FIELD] [-o table|json|yaml]

Groups the matching resources by the values of the --group-by keys and prints one row per
group with its count (default) or the sum of FIELD. Cloud services are aggregated by the
server (CloudServiceService.Stat); other resources are fetched page by page and aggregated
by cfctl.

Options:
  --group-by KEYS    comma-separated fields or dotted paths (data.cluster)
  --filter EXPR      as for cfctl list (repeatable)
  --count            count the resources of each group (default)
  --sum FIELD        sum a numeric field per group instead
  -o, --output FMT   table (default), json or yaml

Examples:
  cfctl stat cs --group-by cloud_service_type,state
  cfctl stat cs --group-by data.cluster --sum data.cpu_cores --filter provider=nutanix
  cfctl stat jobs --group-by status

Resources:
${resourceHelp()}
`;
  },
  async run(ctx) {
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
  const groups = new Map<string, JsonObject>();
  const measure = request.sum ? `sum_${keyName(request.sum)}` : "count";
  for await (const item of resource.list(client, { filter: request.filter })) {
    const keys: JsonValue[] = request.groupBy.map((k) => valueAt(item, k) ?? null);
    const id = JSON.stringify(keys);
    let row = groups.get(id);
    if (!row) {
      row = Object.fromEntries(request.groupBy.map((k, i) => [keyName(k), keys[i]]));
      row[measure] = 0;
      groups.set(id, row);
    }
    const value = request.sum ? Number(valueAt(item, request.sum) ?? 0) : 1;
    row[measure] = (row[measure] as number) + (Number.isFinite(value) ? value : 0);
  }
  return [...groups.values()].sort((a, b) => (b[measure] as number) - (a[measure] as number) || compareKeys(a, b, request.groupBy.map(keyName)));
}

function compareKeys(a: JsonObject, b: JsonObject, keys: string[]): number {
  for (const k of keys) {
    const order = cellText(a[k]).localeCompare(cellText(b[k]));
    if (order !== 0) return order;
  }
  return 0;
}
