import { UsageError } from "../cli-error";
import { parseCommandArgs, type Command } from "../command";
import { planApply } from "./apply";

const HELP = `Usage: cfctl diff -f FILE|DIR|- [-f …]

Compares the objects of the apply files with what the server holds, changing nothing, and
prints the field-level differences of each object that cfctl apply would create or update:

  collector/nutanix (would be updated)
    ~ name: "Nutanix" → "Nutanix prod"
    ~ plugin_info.options.port: 9440 → 9441
    + tags.team: "ops"
  workspace/ws-new (would be created)
    + workspace_id: "ws-new"
    + name: "New"

Secret values are never shown ("(hidden)", "(changed)").
Exit codes: 0 no differences, 1 differences found (as kubectl diff) or an error (printed on stderr), 2 a usage error.
`;

export const diffCommand: Command = {
  name: "diff",
  help: HELP,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "diff", { filename: { type: "string", short: "f", multiple: true } });
    if (values.help) return ctx.stdout.write(HELP), 0;
    if (positionals.length > 0) throw new UsageError(`diff takes files with -f, got "${positionals.join(" ")}"`, "diff");
    if (!values.filename?.length) throw new UsageError("diff needs -f FILE (or -f - for stdin)", "diff");
    let differences = 0;
    for (const { label, outcome, changes } of await planApply(ctx, values.filename, "diff")) {
      if (outcome === "unchanged") continue;
      differences++;
      ctx.stdout.write(`${label} (would be ${outcome.startsWith("updated") ? "updated" : outcome})\n${changes.map((c) => `  ${c}\n`).join("")}`);
    }
    if (differences === 0) ctx.stdout.write("No differences.\n");
    // Errors exit 1 as everywhere in cfctl; "differences found" is 1 too, as kubectl diff has it.
    return differences === 0 ? 0 : 1;
  },
};
