import { authenticateFailure, cloudService, definePlugin, itemFailure, serviceUnavailable } from "@cloudforet/plugin-sdk";

/**
 * A Nutanix-like collector plugin built with the SDK, steered by its options so tests can ask for
 * any collection: `count` VMs per account, `skip` (indexes left out), `bad` (indexes reported as
 * item failures), `invalid` (indexes with a bad type), `fail_after` (the provider goes away after
 * that many VMs), `delay_every`/`delay_ms` (slow streams), `generation` (copied into data),
 * `hold_after` (the stream waits after that many VMs until the test opens `pluginHold`).
 */
let holdOpen = true;
const held = new Set<() => void>();

/** Where streams with `hold_after` wait: closed, they stop there until opened (or their call ends). */
export const pluginHold = {
  close(): void {
    holdOpen = false;
  },
  open(): void {
    holdOpen = true;
    for (const release of held) release();
    held.clear();
  },
};

function waitForHold(signal: AbortSignal): Promise<void> {
  if (holdOpen || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    held.add(resolve);
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

export const testPlugin = definePlugin({
  init(options) {
    if (options.count !== undefined && typeof options.count !== "number") throw new Error("count must be a number");
    return { supported_resource_type: ["cloud_service.CloudService"], supported_providers: ["nutanix"], version: "1.0.0" };
  },

  verify(_options, secretData) {
    if (secretData.nutanix_password !== "DecryptedPassword123!") throw authenticateFailure("Invalid Prism credentials");
  },

  async *collect({ options, taskOptions, signal }) {
    const account = String(taskOptions.service_account_id);
    const count = Number(options.count ?? 10);
    const skip = new Set((options.skip as number[] | undefined) ?? []);
    const bad = new Set((options.bad as number[] | undefined) ?? []);
    const invalid = new Set((options.invalid as number[] | undefined) ?? []);
    const failAfter = options.fail_after as number | undefined;
    const delayEvery = Number(options.delay_every ?? 0);
    const holdAfter = options.hold_after as number | undefined;
    for (let i = 0; i < count; i++) {
      if (i === holdAfter) await waitForHold(signal);
      if (signal.aborted) return;
      if (failAfter !== undefined && i === failAfter) throw serviceUnavailable("Nutanix Prism API unreachable");
      if (delayEvery > 0 && i % delayEvery === 0) await new Promise((resolve) => setTimeout(resolve, Number(options.delay_ms ?? 10)));
      if (skip.has(i)) continue;
      const id = `vm-${account}-${i}`;
      if (bad.has(i)) {
        yield itemFailure(`${id}: permission denied reading VM`, { reference: { resource_id: id } });
        continue;
      }
      yield cloudService({
        cloud_service_type: invalid.has(i) ? "compute.NoSuchType" : "compute.Instance",
        cloud_service_group: "Nutanix",
        cloud_service_name: `web-${i}`,
        data: { state: i % 5 === 0 ? "OFF" : "ON", cpu_cores: 2 + (i % 8), cluster: `cluster-${i % 3}`, generation: Number(options.generation ?? 1) },
        tags: { environment: "production" },
        reference: { resource_id: id, external_link: `https://prism.local/vm/${id}` },
      });
    }
  },
});
