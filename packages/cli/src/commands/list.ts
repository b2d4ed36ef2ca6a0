import type { JsonObject } from "@bufbuild/protobuf";
import { UsageError } from "../cli-error";
import { clientOf, integerFlag, parseCommandArgs, type Command } from "../command";
import { parseFilter, parseSort } from "../filters";
import { outputFormat, renderList } from "../output/render";
import { resolveResource, resourceTypes } from "../resources";

export function resourceHelp(): string {
  return resourceTypes()
    .map((r) => `  ${r.name.padEnd(22)}${[r.kind, ...r.aliases].join(", ")}${r.noList ? "  (get only)" : ""}`)
    .join("\n");
}

export const listCommand: Command = {
  name: "list",
  get help() {
    return `Usage: cfctl list <resource> [--filter EXPR ...] [--sort key|-key] [--limit N] [-o table|json|yaml] [--columns a,b]

Lists every matching resource, fetching page after page until --limit.

Filters (repeatable, all must match; keys are fields or dotted paths such as data.cluster):
  k=v   equal            k!=v  not equal         k=a|b  one of
  k>v   k>=v  k<v  k<=v  (numbers compare as numbers)
  k~v   contains         k!~v  does not contain

Options:
  --filter EXPR      a filter (repeatable)
  --sort KEY         sort by KEY ascending; -KEY descending
  --limit N          at most N items
  -o, --output FMT   table (default), json or yaml (whole items)
  --columns A,B      the table's columns (JSON paths)

Resources (name, then singular and aliases):
${resourceHelp()}

Examples:
  cfctl list cs --filter provider=nutanix --filter data.cpu_cores>=4 --sort -name --limit 20
  cfctl list jobs --filter status=FINISHED -o json
  cfctl list notifications --columns title,severity,created_at
`;
  },
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "list", {
      filter: { type: "string", multiple: true },
      sort: { type: "string" },
      limit: { type: "string" },
      output: { type: "string", short: "o" },
      columns: { type: "string" },
    });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length > 1) throw new UsageError(`list takes one resource, got "${positionals.join(" ")}"`, "list");
    const resource = resolveResource(positionals[0], "list");
    const format = outputFormat(values.output, "list");
    const request = {
      filter: (values.filter ?? []).map((f) => parseFilter(f, "list")),
      sort: parseSort(values.sort),
      limit: integerFlag(values.limit, "--limit", "list"),
    };
    if (!resource.list) throw new UsageError(resource.noList ?? `${resource.name} cannot be listed`, "list");
    const client = await clientOf(ctx);
    const items: JsonObject[] = [];
    for await (const item of resource.list(client, request)) items.push(item);
    renderList(items, format, columnsOf(values.columns, resource.columns), ctx.stdout);
    return 0;
  },
};

export function columnsOf(flag: string | undefined, defaults: string[]): string[] {
  if (flag === undefined) return defaults;
  const columns = flag.split(",").map((c) => c.trim()).filter(Boolean);
  if (columns.length === 0) throw new UsageError("--columns needs at least one column", "list");
  return columns;
}
