import type { JsonObject } from "@bufbuild/protobuf";
import { UsageError } from "../cli-error";
import { clientOf, integerFlag, parseCommandArgs, type Command } from "../command";
import { parseFilter, parseSort } from "../filters";
import { outputFormat, renderList, renderWatchEvent } from "../output/render";
import { resolveResource, resourceTypes } from "../resources";

export function resourceHelp(): string {
  return resourceTypes()
    .map((r) => `  ${r.name.padEnd(22)}${[r.kind, ...r.aliases].join(", ")}${r.noList ? "  (get only)" : ""}`)
    .join("\n");
}

export const listCommand: Command = {
  name: "list",
  get help() {
    return `Usage: cfctl list <resource> [--filter EXPR ...] [--sort key|-key] [--limit N] [-o table|wide|json|yaml|name|jsonpath=…] [--watch] [--columns a,b]

Lists every matching resource, fetching page after page until --limit.

Filters (repeatable, all must match; keys are fields or dotted paths such as data.cluster):
  k=v   equal            k!=v  not equal         k=a|b  one of
  k>v   k>=v  k<v  k<=v  (numbers compare as numbers)
  k~v   contains         k!~v  does not contain

Options:
  --filter EXPR      a filter (repeatable)
  --state S          shorthand for --filter state=S (upper-cased): cfctl list alerts --state firing
  --resource ID      shorthand for --filter cloud_service_id=ID: cfctl list changes --resource cs-…
  --sort KEY         sort by KEY ascending; -KEY descending
  --limit N          at most N items
  -o, --output FMT   table (default), wide (every scalar field), json, yaml (whole items),
                     name (kind/id), or jsonpath=TEMPLATE (kubectl's: '{.items[*].name}')
  --columns A,B      the table's columns (JSON paths)
  -w, --watch        after the list, print each change of the listed items that have not ended
                     yet, as it happens (jobs and instances: their services' Watch RPCs), until
                     they all have ended or Ctrl-C

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
      state: { type: "string" },
      resource: { type: "string" },
      sort: { type: "string" },
      limit: { type: "string" },
      output: { type: "string", short: "o" },
      columns: { type: "string" },
      watch: { type: "boolean", short: "w" },
    });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length > 1) throw new UsageError(`list takes one resource, got "${positionals.join(" ")}"`, "list");
    const resource = resolveResource(positionals[0], "list");
    const format = outputFormat(values.output, "list");
    const request = {
      // --state firing: shorthand for --filter state=FIRING (alerts, jobs, anything with a state).
      filter: [
        ...(values.filter ?? []),
        ...(values.state ? [`state=${values.state.toUpperCase()}`] : []),
        // --resource cs-…: one resource's change history (or anything keyed by cloud_service_id).
        ...(values.resource ? [`cloud_service_id=${values.resource}`] : []),
      ].map((f) => parseFilter(f, "list")),
      sort: parseSort(values.sort),
      limit: integerFlag(values.limit, "--limit", "list"),
    };
    if (!resource.list) throw new UsageError(resource.noList ?? `${resource.name} cannot be listed`, "list");
    const { watcherOf, WATCHABLE } = await import("../watch");
    const watcher = values.watch ? watcherOf(resource.name) : undefined;
    if (values.watch && !watcher) throw new UsageError(`--watch needs a resource whose service streams changes: ${WATCHABLE.join(", ")}`, "list");
    const client = await clientOf(ctx);
    const items: JsonObject[] = [];
    for await (const item of resource.list(client, request)) items.push(item);
    const columns = columnsOf(values.columns, resource.columns);
    if (!watcher) {
      renderList(items, format, columns, ctx.stdout, resource);
      return 0;
    }
    for (const item of items) renderWatchEvent(item, format, columns, ctx.stdout, resource, item === items[0]);
    const stop = new AbortController();
    const interrupt = () => stop.abort();
    process.once("SIGINT", interrupt);
    try {
      for await (const change of watcher.changes(client, items, stop.signal)) renderWatchEvent(change, format, columns, ctx.stdout, resource, false);
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    } finally {
      process.off("SIGINT", interrupt);
    }
    return 0;
  },
};

export function columnsOf(flag: string | undefined, defaults: string[]): string[] {
  if (flag === undefined) return defaults;
  const columns = flag.split(",").map((c) => c.trim()).filter(Boolean);
  if (columns.length === 0) throw new UsageError("--columns needs at least one column", "list");
  return columns;
}
