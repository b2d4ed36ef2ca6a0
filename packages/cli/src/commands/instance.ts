import { TaskInstance_State } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import type { InstanceHandle } from "@cloudforet/sdk";
import { Code } from "@connectrpc/connect";
import { CliError, UsageError } from "../cli-error";
import { clientOf, parseCommandArgs, type Command, type CommandContext } from "../command";

export const instanceCommand: Command = {
  name: "instance",
  help: `Usage: cfctl instance watch <instance-id> [--interval-ms N]

Prints the instance's state changes until it is COMPLETED, FAILED or CANCELLED
(InstanceService.Watch; where the service does not offer Watch, cfctl polls every
--interval-ms, default 500). Exits 0 when it COMPLETED, 1 otherwise.
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "instance", { "interval-ms": { type: "string" } });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals[0] !== "watch" || positionals.length !== 2) throw new UsageError("usage: cfctl instance watch <instance-id>", "instance");
    const interval = Number(values["interval-ms"] ?? 500);
    if (!Number.isInteger(interval) || interval < 10) throw new UsageError("--interval-ms must be an integer of at least 10", "instance");
    const client = await clientOf(ctx);
    const instance = await client.orchestration.instances.get(positionals[1]);
    await followInstance(ctx, instance, interval);
    const state = TaskInstance_State[instance.data.state];
    if (instance.data.state === TaskInstance_State.COMPLETED) return 0;
    throw new CliError(`ERROR_INSTANCE_${state}`, `instance ${instance.id} ended ${state}`, `cfctl get instance ${instance.id} -o yaml shows its context`);
  },
};

async function followInstance(ctx: CommandContext, instance: InstanceHandle, intervalMs: number): Promise<void> {
  const { APIError, NotFoundError } = await import("@cloudforet/sdk");
  let last: TaskInstance_State | undefined;
  const show = (state: TaskInstance_State) => {
    if (state === last) return;
    ctx.stdout.write(`${instance.id} ${last === undefined ? "" : `${TaskInstance_State[last]} -> `}${TaskInstance_State[state]}\n`);
    last = state;
  };
  show(instance.data.state);
  if (instance.done) return;
  try {
    for await (const change of instance.watch()) {
      if (change.id !== instance.id) continue;
      instance.data.state = change.state;
      show(change.state);
      if (instance.done) return;
    }
    await instance.refresh();
  } catch (err) {
    // A service without InstanceService.Watch: poll instead.
    const unsupported = err instanceof APIError && (err.grpcCode === Code.Unimplemented || err instanceof NotFoundError);
    if (!unsupported) throw err;
  }
  while (!instance.done) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    await instance.refresh();
    show(instance.data.state);
  }
}
