import { UsageError } from "../cli-error";
import { clientOf, parseCommandArgs, type Command } from "../command";
import { outputFormat, renderOne } from "../output/render";
import { resolveResource } from "../resources";
import { columnsOf, resourceHelp } from "./list";

export const getCommand: Command = {
  name: "get",
  get help() {
    return `Usage: cfctl get <resource> <id> [-o table|wide|json|yaml|name|jsonpath=…] [--columns a,b]

Shows one resource: a table row by default, the whole resource with -o json or -o yaml.
Secrets show their metadata only, never their value.
Sequences are also found by name: cfctl get sequence <namespace>/<name>.

Resources:
${resourceHelp()}
`;
  },
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "get", { output: { type: "string", short: "o" }, columns: { type: "string" } });
    if (values.help) return ctx.stdout.write(this.help), 0;
    const resource = resolveResource(positionals[0], "get");
    if (positionals.length !== 2) throw new UsageError(`get needs a resource and an id, e.g. cfctl get ${resource.kind} <id>`, "get");
    const format = outputFormat(values.output, "get");
    if (!resource.get) throw new UsageError(`${resource.name} cannot be fetched one by one`, "get");
    const item = await resource.get(await clientOf(ctx), positionals[1]);
    renderOne(item, format, columnsOf(values.columns, resource.columns), ctx.stdout, resource);
    return 0;
  },
};

export const deleteCommand: Command = {
  name: "delete",
  get help() {
    return `Usage: cfctl delete <resource> <id>

Deletes one resource and prints "<kind>/<id> deleted".

Resources:
${resourceHelp()}
`;
  },
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "delete", {});
    if (values.help) return ctx.stdout.write(this.help), 0;
    const resource = resolveResource(positionals[0], "delete");
    if (positionals.length !== 2) throw new UsageError(`delete needs a resource and an id, e.g. cfctl delete ${resource.kind} <id>`, "delete");
    if (!resource.delete) throw new UsageError(`${resource.name} cannot be deleted`, "delete");
    await resource.delete(await clientOf(ctx), positionals[1]);
    ctx.stdout.write(`${resource.kind}/${positionals[1]} deleted\n`);
    return 0;
  },
};
