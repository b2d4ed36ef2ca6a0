import { UsageError } from "../cli-error";
import { clientOf, configOf, parseCommandArgs, type Command, type CommandContext } from "../command";
import { loadDocuments } from "../apply/documents";
import { readStdin } from "../prompt";

/** The kinds, in the order they are applied (kept in step with apply/kinds.ts, whose SDK import help does not need). */
const APPLY_ORDER = ["Workspace", "Secret", "ServiceAccount", "Collector", "Sequence", "CronSchedule", "Trigger"];

export const applyCommand: Command = {
  name: "apply",
  get help() {
    return `Usage: cfctl apply -f FILE|DIR|- [-f …] [--dry-run]

Creates each object of the (multi-document) YAML files that does not exist yet, updates the
ones that differ, and leaves the others alone; prints one line per object:
  collector/nutanix created | updated | unchanged
Objects are applied in dependency order (${APPLY_ORDER.join(", ")}), each
identified by metadata.name. A directory applies its *.yaml, *.yml and *.json files; "-" reads stdin.
\${NAME} and \${NAME:-default} in values come from the environment.

--dry-run reads what the server holds and prints what would be created, updated or left
unchanged ("collector/nutanix updated (dry run)"), changing nothing. cfctl diff -f FILE shows
the field-level differences. (An object that refers to another one the same apply would create
first is reported as an error by a dry run.)

A document:
  kind: Collector
  metadata:
    name: nutanix               # the id (collector_id, service_account_id, workspace_id, secret name)
    workspace_id: ws-quickstart
  spec:
    provider: nutanix
    plugin_info: { endpoint: http://127.0.0.1:50100, options: {} }

Kinds and their spec:
  Workspace       name, tags
  Secret          data: { KEY: { valueFrom: { env: NAME } | { file: path } } }  or  valueFrom: {...} (a JSON/YAML mapping); tags
                  plaintext values are refused
  ServiceAccount  provider, name, secret (a Secret's name) or secret_id, project_id, data, tags
  Collector       provider, name, plugin_info { endpoint, options }, tags
  Sequence        blocks (metadata.namespace, default "default"); a change creates the next version
  CronSchedule    sequence (a name) or sequence_id, cron_expr, timezone (UTC), enabled, metadata;
                  found again by metadata.name kept in the schedule's metadata
  Trigger         sequence (a name) or sequence_id, trigger_type (WEBHOOK|EVENT), enabled; the slug is metadata.name
`;
  },
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "apply", { filename: { type: "string", short: "f", multiple: true }, "dry-run": { type: "boolean" } });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length > 0) throw new UsageError(`apply takes files with -f, got "${positionals.join(" ")}"`, "apply");
    if (!values.filename?.length) throw new UsageError("apply needs -f FILE (or -f - for stdin)", "apply");
    if (values["dry-run"]) {
      for (const { label, outcome } of await planApply(ctx, values.filename, "apply")) ctx.stdout.write(`${label} ${outcome} (dry run)\n`);
      return 0;
    }
    const planned = await plannedDocuments(ctx, values.filename, "apply");
    const client = await clientOf(ctx);
    for (const { doc, applier } of planned) {
      const outcome = await applier.apply(client, doc, ctx.env);
      ctx.stdout.write(`${applier.label}/${doc.metadata.name} ${outcome}\n`);
    }
    return 0;
  },
};

/** The documents of the files with their appliers, in apply order; every kind is checked before anything is applied. */
async function plannedDocuments(ctx: CommandContext, files: string[], command: string) {
  const { applierOf, KINDS } = await import("../apply/kinds");
  const documents = await loadDocuments(files, () => readStdin(ctx.stdin), ctx.env);
  const planned = documents.map((doc) => ({ doc, applier: applierOf(doc) }));
  planned.sort((a, b) => KINDS.indexOf(a.applier) - KINDS.indexOf(b.applier));
  if (planned.length === 0) throw new UsageError("the files hold no documents", command);
  return planned;
}

/** What applying the files would do, found by applying them through a client whose writes are held back. */
export async function planApply(ctx: CommandContext, files: string[], command: string) {
  const planned = await plannedDocuments(ctx, files, command);
  const { CallRecorder, describeChanges, dryRunClient } = await import("../apply/dry-run");
  const { clientOptions, connect } = await import("../connect");
  const config = await configOf(ctx);
  connect(config, ctx.env); // the same refusals as a real apply (not logged in, no URL)
  const recorder = new CallRecorder();
  const client = dryRunClient(clientOptions(config, ctx.env), recorder);
  const plan: { label: string; outcome: string; changes: string[] }[] = [];
  for (const { doc, applier } of planned) {
    recorder.take();
    const outcome = await applier.apply(client, doc, ctx.env);
    plan.push({ label: `${applier.label}/${doc.metadata.name}`, outcome, changes: describeChanges(recorder.take()) });
  }
  return plan;
}
