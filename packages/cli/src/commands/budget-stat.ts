import { BudgetServiceStatResponse_RowSchema } from "@cloudforet/proto/cloudforet/cost/v1/budget_pb";
import { UsageError } from "../cli-error";
import { clientOf, parseCommandArgs, type Command } from "../command";
import { messageJson } from "../message-json";
import { outputFormat, renderList } from "../output/render";

/** `cfctl stat budget [<id>] [--period YYYY-MM]`: usage against limit and forecast (BudgetService.Stat). */
export const budgetStatCommand: Command = {
  name: "stat budget",
  get help() {
    return `Usage: cfctl stat budget [<budget-id>] [--period YYYY-MM|YYYY] [-o table|wide|json|yaml|jsonpath=…]

Prints a budget's usage against its limit for one period (default: the current one), with the
forecast to the period's end at the current run rate and the thresholds already notified.
Without an id: every budget you may read.

Examples:
  cfctl stat budget budget-3f1c…
  cfctl stat budget --period 2024-01 -o json
`;
  },
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "stat", { period: { type: "string" }, output: { type: "string", short: "o" } });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length > 2) throw new UsageError("stat budget takes at most one budget id", "stat");
    const format = outputFormat(values.output, "stat");
    const client = await clientOf(ctx);
    const rows = await client.cost.budgets.stat(positionals[1] ?? "", values.period ?? "");
    renderList(
      rows.map((row) => messageJson(BudgetServiceStatResponse_RowSchema, row)),
      format,
      ["budget_id", "name", "period", "currency", "usage", "limit", "usage_percent", "forecast", "forecast_percent", "notified_thresholds"],
      ctx.stdout,
    );
    return 0;
  },
};

/** Whether `cfctl stat …` names a budget (`stat budget <id>`), which BudgetService.Stat answers. */
export const isBudgetStat = (argv: string[]) => ["budget", "budgets"].includes(argv.find((a) => !a.startsWith("-"))?.toLowerCase() ?? "");
