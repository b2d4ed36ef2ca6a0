import { readFile } from "node:fs/promises";
import type { JsonObject } from "@bufbuild/protobuf";
import {
  Enrollment_Status,
  EnrollmentSchema,
  Plugin_Kind,
  Plugin_RoutingMode,
  PluginAliasSchema,
  PluginSchema,
  PluginServiceResolveResponseSchema,
  PluginVersionSchema,
  type Plugin,
} from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import type { FilterInput } from "@cloudforet/sdk";
import YAML from "yaml";
import { UsageError } from "../cli-error";
import { clientOf, integerFlag, parseCommandArgs, type Command, type CommandContext } from "../command";
import { parseFilter } from "../filters";
import { messageJson } from "../message-json";
import { outputFormat, renderList, renderOne } from "../output/render";
import { readStdin } from "../prompt";

const OUTPUT_HELP = "-o, --output FMT   table (default), wide, json, yaml (whole items), name or jsonpath=TEMPLATE";

/** The verbs of a command and how many positionals (the verb included) each takes: [min, max]. */
function verbOf(positionals: string[], arity: Record<string, [number, number]>, usage: string, command: string): string {
  const [verb] = positionals;
  const range = verb ? arity[verb] : undefined;
  if (!range || positionals.length < range[0] || positionals.length > range[1]) throw new UsageError(usage, command);
  return verb;
}

/** Every `--filter` and the first `--limit` items (default 100) of a list. */
function listArgs(values: { filter?: string[]; limit?: string }, command: string): { filter: FilterInput[]; limit: number } {
  const filter = (values.filter ?? []).map((f) => parseFilter(f, command));
  const limit = integerFlag(values.limit, "--limit", command) ?? 100;
  if (limit < 1 || limit > 1000) throw new UsageError("--limit must be a whole number from 1 to 1000", command);
  return { filter, limit };
}

function enumFlag<E extends Record<string, string | number>>(values: E, value: string | undefined, flag: string, command: string): E[keyof E] | undefined {
  if (value === undefined) return undefined;
  const key = value.toUpperCase().replace(/-/g, "_");
  const names = Object.keys(values).filter((k) => Number.isNaN(Number(k)));
  if (!names.includes(key)) throw new UsageError(`${flag} must be one of ${names.join(", ")}, not "${value}"`, command);
  return values[key as keyof E];
}

const listFlags = {
  filter: { type: "string", multiple: true },
  limit: { type: "string" },
  output: { type: "string", short: "o" },
} as const;

// ── cfctl plugins ─────────────────────────────────────────────────────────────

const PLUGINS_USAGE = "usage: cfctl plugins list | get <plugin-id> | register <plugin-id> --name NAME | add-version <plugin-id> <version> --endpoint URL[=WEIGHT]… | resolve <plugin-id> [version|alias]";
const PLUGIN_COLUMNS = ["plugin_id", "name", "kind", "routing_mode", "created_at"];

/** A plugin as a table shows it: its versions and aliases in one cell each. */
function pluginRow(plugin: Plugin): JsonObject {
  return {
    ...messageJson(PluginSchema, plugin),
    versions: plugin.versions.map((v) => v.version),
    aliases: plugin.aliases.map((a) => `${a.name}=${a.version}`),
  };
}

/** `cfctl plugins list|get|register|add-version|resolve`: the plugin registry (seed 001 `client.plugins`). */
export const pluginsCommand: Command = {
  name: "plugins",
  help: `Usage: cfctl plugins list [--filter k=v …] [--limit N] [-o …]
       cfctl plugins get <plugin-id> [-o …]
       cfctl plugins register <plugin-id> --name NAME [--kind collector|notification-protocol] [--routing weighted|failover] [--tag k=v …]
       cfctl plugins add-version <plugin-id> <version> --endpoint URL[=WEIGHT] [--endpoint …]
       cfctl plugins resolve <plugin-id> [<version>|<alias>] [-o …]

The plugin registry of the domain (inventory's PluginService). register and add-version need
DOMAIN_ADMIN; every member may read. resolve is a dry run: the version (an alias names one; none
means the alias "stable", else the newest version) and the endpoint a call would use now, and why.
Aliases: cfctl plugin-aliases; enrollments: cfctl enrollments.

  ${OUTPUT_HELP}

Examples:
  cfctl plugins register plugin-nutanix --name "Nutanix collector" --routing failover
  cfctl plugins add-version plugin-nutanix 1.1.0 --endpoint http://10.0.0.5:50100 --endpoint http://10.0.0.6:50100
  cfctl plugins resolve plugin-nutanix stable
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "plugins", {
      ...listFlags,
      name: { type: "string" },
      kind: { type: "string" },
      routing: { type: "string" },
      tag: { type: "string", multiple: true },
      endpoint: { type: "string", multiple: true },
    });
    if (values.help) return ctx.stdout.write(this.help), 0;
    const verb = verbOf(positionals, { list: [1, 1], get: [2, 2], register: [2, 2], "add-version": [3, 3], resolve: [2, 3] }, PLUGINS_USAGE, "plugins");
    const format = outputFormat(values.output, "plugins");
    const naming = { kind: "plugin", idField: "plugin_id" };

    if (verb === "register") {
      if (!values.name) throw new UsageError("plugins register needs --name NAME", "plugins");
      const kind = enumFlag(Plugin_Kind, values.kind, "--kind", "plugins");
      const routingMode = enumFlag(Plugin_RoutingMode, values.routing, "--routing", "plugins");
      const tags = Object.fromEntries((values.tag ?? []).map((t) => keyValue(t, "--tag", "plugins")));
      const plugin = await (await clientOf(ctx)).plugins.register({ pluginId: positionals[1], name: values.name, kind, routingMode, tags });
      if (values.output === undefined) return ctx.stdout.write(`plugin/${plugin.pluginId} registered\n`), 0;
      return renderOne(pluginRow(plugin), format, PLUGIN_COLUMNS, ctx.stdout, naming), 0;
    }
    if (verb === "add-version") {
      const endpoints = (values.endpoint ?? []).map((e) => endpointFlag(e));
      if (endpoints.length === 0) throw new UsageError("plugins add-version needs at least one --endpoint URL[=WEIGHT]", "plugins");
      const version = await (await clientOf(ctx)).plugins.addVersion(positionals[1], positionals[2], endpoints);
      if (values.output === undefined) return ctx.stdout.write(`plugin/${version.pluginId} version ${version.version} added (${version.endpoints.length} endpoint${version.endpoints.length === 1 ? "" : "s"})\n`), 0;
      return renderOne(messageJson(PluginVersionSchema, version), format, ["plugin_id", "version", "created_at"], ctx.stdout), 0;
    }
    const plugins = (await clientOf(ctx)).plugins;
    if (verb === "list") {
      const { filter, limit } = listArgs(values, "plugins");
      const page = await plugins.list({ filter, sort: { key: "plugin_id" } }).page(0, limit);
      renderList(page.items.map((p) => messageJson(PluginSchema, p)), format, PLUGIN_COLUMNS, ctx.stdout, naming);
      return 0;
    }
    if (verb === "get") {
      const plugin = await plugins.get(positionals[1]);
      renderOne(format === "table" || format === "wide" ? pluginRow(plugin) : messageJson(PluginSchema, plugin), format, [...PLUGIN_COLUMNS.slice(0, 4), "versions", "aliases"], ctx.stdout, naming);
      return 0;
    }
    const resolved = await plugins.resolve(positionals[1], positionals[2] ?? "");
    const item = messageJson(PluginServiceResolveResponseSchema, resolved);
    if (format !== "table") return renderOne(item, format, ["plugin_id", "version", "alias", "endpoint.url"], ctx.stdout, naming), 0;
    renderOne(item, format, ["plugin_id", "version", "alias", "routing_mode", "endpoint.url", "endpoint.health"], ctx.stdout);
    ctx.stdout.write(`${resolved.explanation}\n`);
    return 0;
  },
};

function keyValue(text: string, flag: string, command: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new UsageError(`${flag} "${text}" must look like key=value`, command);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** `--endpoint URL` or `--endpoint URL=WEIGHT` (the URL's own `=`s, in a query, stay). */
function endpointFlag(text: string): { url: string; weight?: number } {
  const match = /^(.*)=(\d+)$/.exec(text);
  return match ? { url: match[1], weight: Number(match[2]) } : { url: text };
}

// ── cfctl plugin-aliases ──────────────────────────────────────────────────────

const ALIASES_USAGE = "usage: cfctl plugin-aliases list [plugin-id] | create <plugin-id> <alias> <version> | switch <plugin-id> <alias> <version> | delete <plugin-id> <alias>";
const ALIAS_COLUMNS = ["plugin_id", "name", "version", "updated_at"];

/** `cfctl plugin-aliases list|create|switch|delete`: names for plugin versions ("stable" → "1.4.2"). */
export const pluginAliasesCommand: Command = {
  name: "plugin-aliases",
  help: `Usage: cfctl plugin-aliases list [<plugin-id>] [--filter k=v …] [--limit N] [-o …]
       cfctl plugin-aliases create <plugin-id> <alias> <version>
       cfctl plugin-aliases switch <plugin-id> <alias> <version>
       cfctl plugin-aliases delete <plugin-id> <alias>

An alias names one version of a plugin; collectors whose plugin_info.plugin_version is the alias
use the version it names at their next call, so switch moves them all at once (and prints the
version it named before). delete is refused while a collector references the alias. Writes need
DOMAIN_ADMIN. Without a plugin id, list shows the aliases of every plugin of the domain.

  ${OUTPUT_HELP}

Examples:
  cfctl plugin-aliases create plugin-nutanix stable 1.0.0
  cfctl plugin-aliases switch plugin-nutanix stable 1.1.0    # plugin/plugin-nutanix alias stable: 1.0.0 → 1.1.0
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "plugin-aliases", listFlags);
    if (values.help) return ctx.stdout.write(this.help), 0;
    const verb = verbOf(positionals, { list: [1, 2], create: [4, 4], switch: [4, 4], delete: [3, 3] }, ALIASES_USAGE, "plugin-aliases");
    const format = outputFormat(values.output, "plugin-aliases");
    const [, pluginId, name, version] = positionals;
    const aliases = (await clientOf(ctx)).plugins.aliases;
    if (verb === "list") {
      const { filter, limit } = listArgs(values, "plugin-aliases");
      const page = await aliases.list(pluginId ?? "", { filter }).page(0, limit);
      renderList(page.items.map((a) => messageJson(PluginAliasSchema, a)), format, ALIAS_COLUMNS, ctx.stdout, { kind: "plugin-alias", idField: "name" });
      return 0;
    }
    if (verb === "create") {
      const alias = await aliases.create(pluginId, name, version);
      ctx.stdout.write(`plugin/${alias.pluginId} alias ${alias.name} created → ${alias.version}\n`);
      return 0;
    }
    if (verb === "switch") {
      const { alias, previousVersion } = await aliases.switch(pluginId, name, version);
      ctx.stdout.write(`plugin/${alias.pluginId} alias ${alias.name}: ${previousVersion} → ${alias.version}\n`);
      return 0;
    }
    await aliases.delete(pluginId, name);
    ctx.stdout.write(`plugin/${pluginId} alias ${name} deleted\n`);
    return 0;
  },
};

// ── cfctl enrollments ─────────────────────────────────────────────────────────

const ENROLLMENTS_USAGE = "usage: cfctl enrollments list | get <enrollment-id> | create <plugin-id> [--version V] [--workspace WS] [--param k=v …] [--parameters-file FILE|-] [--wait] | cancel <enrollment-id>";
const ENROLLMENT_COLUMNS = ["enrollment_id", "plugin_id", "version", "resolved_version", "status", "workspace_id", "reason"];

/** `cfctl enrollments list|get|create|cancel`: plugins enrolled into the domain or a workspace. */
export const enrollmentsCommand: Command = {
  name: "enrollments",
  help: `Usage: cfctl enrollments list [--plugin ID] [--status S] [--filter k=v …] [--limit N] [-o …]
       cfctl enrollments get <enrollment-id> [-o …]
       cfctl enrollments create <plugin-id> [--version V|ALIAS] [--workspace WS] [--param k=v …]
                                [--parameters-file FILE|-] [--wait [--timeout SECONDS]] [-o …]
       cfctl enrollments cancel <enrollment-id>

create enrolls a plugin into the domain (no --workspace: DOMAIN_ADMIN only) or one workspace. It
answers at once with PENDING; the platform then calls the plugin's Verify with the parameters and
the enrollment becomes ACTIVE, or FAILED with the plugin's reason. --wait polls until then (exit 1
when it FAILED). Parameters come from --param k=v (values as text) and --parameters-file (a JSON or
YAML mapping; "-" reads stdin, so secrets stay off the command line); secret-shaped keys (api_key,
password, token, secret, …) are shown masked on every read.

  ${OUTPUT_HELP}

Examples:
  echo '{"api_key": "…"}' | cfctl enrollments create plugin-nutanix --version stable --workspace ws-prod --parameters-file - --wait
  cfctl enrollments list --plugin plugin-nutanix --status failed
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "enrollments", {
      ...listFlags,
      plugin: { type: "string" },
      status: { type: "string" },
      version: { type: "string" },
      workspace: { type: "string" },
      param: { type: "string", multiple: true },
      "parameters-file": { type: "string" },
      wait: { type: "boolean" },
      timeout: { type: "string" },
    });
    if (values.help) return ctx.stdout.write(this.help), 0;
    const verb = verbOf(positionals, { list: [1, 1], get: [2, 2], create: [2, 2], cancel: [2, 2] }, ENROLLMENTS_USAGE, "enrollments");
    const format = outputFormat(values.output, "enrollments");
    const naming = { kind: "enrollment", idField: "enrollment_id" };
    const timeoutSeconds = integerFlag(values.timeout, "--timeout", "enrollments");
    const parameters = verb === "create" ? await parametersOf(ctx, values.param ?? [], values["parameters-file"]) : undefined;
    const enrollments = (await clientOf(ctx)).enrollments;

    if (verb === "list") {
      const { filter, limit } = listArgs(values, "enrollments");
      if (values.plugin) filter.push({ k: "plugin_id", v: values.plugin });
      if (values.status) filter.push({ k: "status", v: values.status.toUpperCase() });
      const page = await enrollments.list({ filter, sort: { key: "created_at", desc: true } }).page(0, limit);
      renderList(page.items.map((e) => messageJson(EnrollmentSchema, e)), format, ENROLLMENT_COLUMNS, ctx.stdout, naming);
      return 0;
    }
    if (verb === "cancel") {
      const enrollment = await enrollments.cancel(positionals[1]);
      ctx.stdout.write(`enrollment/${enrollment.enrollmentId} cancelled\n`);
      return 0;
    }
    let enrollment =
      verb === "get"
        ? await enrollments.get(positionals[1])
        : await enrollments.create({ pluginId: positionals[1], version: values.version, workspaceId: values.workspace, parameters });
    if (verb === "create" && values.wait) enrollment = await enrollments.waitUntilSettled(enrollment.enrollmentId, { timeoutMs: (timeoutSeconds ?? 60) * 1000 });
    renderOne(messageJson(EnrollmentSchema, enrollment), format, ENROLLMENT_COLUMNS, ctx.stdout, naming);
    return verb === "create" && values.wait && enrollment.status !== Enrollment_Status.ACTIVE ? 1 : 0;
  },
};

/** The enrollment's parameters: the file's (or stdin's) mapping, then each `--param k=v`. */
async function parametersOf(ctx: CommandContext, params: string[], file: string | undefined): Promise<JsonObject | undefined> {
  if (params.length === 0 && file === undefined) return undefined;
  let parameters: JsonObject = {};
  if (file !== undefined) {
    const text = file === "-" ? await readStdin(ctx.stdin) : await readFile(file, "utf8");
    const parsed: unknown = YAML.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`--parameters-file ${file} must hold a JSON or YAML mapping`, "enrollments");
    parameters = parsed as JsonObject;
  }
  for (const param of params) {
    const [key, value] = keyValue(param, "--param", "enrollments");
    parameters[key] = value;
  }
  return parameters;
}
