import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ScheduleFire_Outcome } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { UsageError } from "../cli-error";
import { clientOf, parseCommandArgs, type Command } from "../command";

const USAGE = "usage: cfctl schedule enable|disable|fires <collector-id>";

/** `cfctl schedule enable|disable|fires <collector-id>`: a collector's schedule and what it did. */
export const scheduleCommand: Command = {
  name: "schedule",
  help: `Usage: cfctl schedule enable <collector-id>
       cfctl schedule disable <collector-id>
       cfctl schedule fires <collector-id> [--limit N]

enable turns the collector's schedule on (CollectorService.EnableSchedule): it fires from now on,
under the workspace's service identity, and prints the next fire time. disable turns it off
(the schedule is kept). fires lists what the schedule did, newest first: each fire time with
STARTED and its job, SKIPPED (the previous job still ran) or FAILED and why.
cfctl get collector <id> shows the schedule and its next fire.
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "schedule", { limit: { type: "string" } });
    if (values.help) return ctx.stdout.write(this.help), 0;
    const [verb, collectorId] = positionals;
    if (positionals.length !== 2 || !["enable", "disable", "fires"].includes(verb)) throw new UsageError(USAGE, "schedule");
    const client = await clientOf(ctx);
    const collectors = client.inventory.collectors;
    if (verb === "fires") {
      const limit = values.limit === undefined ? 20 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError("--limit must be a whole number from 1 to 1000", "schedule");
      const page = await collectors.scheduleFires({ filter: [{ k: "collector_id", v: collectorId }], sort: { key: "scheduled_at", desc: true } }).page(0, limit);
      for (const fire of page.items) {
        const at = fire.scheduledAt ? timestampDate(fire.scheduledAt).toISOString() : "-";
        ctx.stdout.write(`${at}  ${ScheduleFire_Outcome[fire.outcome].padEnd(7)}  ${fire.jobId || "-"}  ${fire.reason}\n`.replace(/ +\n$/, "\n"));
      }
      return 0;
    }
    const collector = verb === "enable" ? await collectors.enableSchedule(collectorId) : await collectors.disableSchedule(collectorId);
    const next = collector.data.schedule?.nextFireAt;
    ctx.stdout.write(`collector/${collectorId} schedule ${verb}d${next ? `; next fire ${timestampDate(next).toISOString()}` : ""}\n`);
    return 0;
  },
};
