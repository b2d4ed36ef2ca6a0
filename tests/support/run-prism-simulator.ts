import { startPrismSimulator } from "./prism-simulator";

/**
 * `pnpm nutanix:simulator`: a Prism Central simulator to try the Nutanix collector without a Prism
 * (README "Five-minute quick start"). PRISM_SIMULATOR_PORT (default 9440), PRISM_SIMULATOR_VMS (25)
 * and PRISM_SIMULATOR_SEED (42) shape it; it prints its URL and credentials as shell exports that
 * examples/quickstart/secret.yaml reads.
 */
const port = Number(process.env.PRISM_SIMULATOR_PORT ?? 9440);
const vms = Number(process.env.PRISM_SIMULATOR_VMS ?? 25);
const seed = Number(process.env.PRISM_SIMULATOR_SEED ?? 42);
for (const [name, value] of [["PRISM_SIMULATOR_PORT", port], ["PRISM_SIMULATOR_VMS", vms], ["PRISM_SIMULATOR_SEED", seed]] as const) {
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`${name} must be a non-negative integer\n`);
    process.exit(2);
  }
}

const sim = await startPrismSimulator({ port, vms, seed });
process.stdout.write(
  [
    `Prism simulator listening on ${sim.url} (${sim.clusters.length} clusters, ${sim.vms.length} VMs, ${sim.subnets.length} subnets)`,
    `username ${sim.username}, password ${sim.password}`,
    "",
    "# for examples/quickstart/secret.yaml:",
    `export PRISM_URL=${sim.url} PRISM_USERNAME=${sim.username} PRISM_PASSWORD='${sim.password}'`,
    "",
  ].join("\n"),
);
const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
