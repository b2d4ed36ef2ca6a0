import { UsageError } from "../cli-error";
import { clientOf, parseCommandArgs, type Command } from "../command";

/** `cfctl ack <alert-id>`: acknowledges a firing alert (stops its escalation). */
export const ackCommand: Command = {
  name: "ack",
  help: `Usage: cfctl ack <alert-id> [<alert-id> ...]

Acknowledges firing alerts (AlertService.Acknowledge): their escalation policies stop notifying.
Prints each alert id with its new state. An alert already acknowledged stays so; a resolved one
is an error (ERROR_CONFLICT).

Example:
  cfctl list alerts --state firing -o name
  cfctl ack alert-2f0c…
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "ack", {});
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length === 0) throw new UsageError("usage: cfctl ack <alert-id>", "ack");
    const client = await clientOf(ctx);
    for (const alertId of positionals) {
      const alert = await client.alerting.alerts.acknowledge(alertId);
      ctx.stdout.write(`${alert.alertId} ACKNOWLEDGED by ${alert.acknowledgedBy}\n`);
    }
    return 0;
  },
};

/** `cfctl resolve <alert-id> [--note TEXT]`: resolves an open alert by hand. */
export const resolveCommand: Command = {
  name: "resolve",
  help: `Usage: cfctl resolve <alert-id> [--note TEXT]

Resolves an open alert (AlertService.Resolve); the note is added as a comment. Its resolution is
notified to whoever was told it fired.
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "resolve", { note: { type: "string" } });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length !== 1) throw new UsageError("usage: cfctl resolve <alert-id> [--note TEXT]", "resolve");
    const client = await clientOf(ctx);
    const alert = await client.alerting.alerts.resolve(positionals[0], values.note ?? "");
    ctx.stdout.write(`${alert.alertId} RESOLVED\n`);
    return 0;
  },
};
