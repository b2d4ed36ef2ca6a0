import type { JsonObject } from "@bufbuild/protobuf";
import { servePlugin } from "@cloudforet/plugin-sdk";
import { createLogger } from "./logger";
import { nutanixPlugin } from "./plugin";
import { runPushCollection } from "./push";

/**
 * `node --import tsx plugins/collector-nutanix/src/main.ts serve` serves the pull plugin
 * (NUTANIX_PLUGIN_ADDR, default 0.0.0.0:50100); `… push` runs one push collection from the env
 * (see README "Nutanix collector") and exits 0 when the task FINISHED, 1 otherwise.
 */
const logger = createLogger();

async function serve(): Promise<void> {
  const [host, port] = splitAddr(process.env.NUTANIX_PLUGIN_ADDR ?? "0.0.0.0:50100");
  const served = await servePlugin(nutanixPlugin(logger), { host, port, onError: (err) => logger.error({ err }, "plugin error") });
  logger.info({ url: served.url }, "Nutanix collector plugin serving");
  const stop = async () => {
    await served.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

async function push(): Promise<void> {
  const env = (name: string, fallback?: string): string => {
    const value = process.env[name] ?? fallback;
    if (value === undefined || value === "") throw new Error(`${name} is required`);
    return value;
  };
  const url = (service: string, port: number) => process.env[`${service}_URL`] ?? `http://127.0.0.1:${port}`;
  let options: JsonObject = {};
  if (process.env.NUTANIX_OPTIONS) options = JSON.parse(process.env.NUTANIX_OPTIONS) as JsonObject;
  if (process.env.NUTANIX_PRISM_URL) options.prism_url = process.env.NUTANIX_PRISM_URL;
  const result = await runPushCollection({
    urls: {
      identity: url("IDENTITY", 50051),
      inventory: url("INVENTORY", 50052),
      cloudService: url("CLOUD_SERVICE", 50053),
      cost: url("COST", 50054),
      monitoring: url("MONITORING", 50055),
      notification: url("NOTIFICATION", 50056),
    },
    domainId: env("CLOUDFORET_DOMAIN_ID", "domain-default"),
    userId: env("CLOUDFORET_USER_ID"),
    apiKey: env("CLOUDFORET_API_KEY"),
    collectorId: env("NUTANIX_COLLECTOR_ID"),
    serviceAccountId: env("NUTANIX_SERVICE_ACCOUNT_ID"),
    secretId: process.env.NUTANIX_SECRET_ID,
    jobId: process.env.NUTANIX_JOB_ID,
    options,
    logger,
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.status === "FINISHED" ? 0 : 1;
}

function splitAddr(addr: string): [string, number] {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i) || "0.0.0.0", Number(addr.slice(i + 1))];
}

const command = process.argv[2];
const run = command === "serve" ? serve : command === "push" ? push : undefined;
if (!run) {
  process.stderr.write("usage: main.ts serve|push\n");
  process.exit(2);
}
run().catch((err: unknown) => {
  logger.error({ err: err instanceof Error ? err.message : String(err), error_code: (err as { errorCode?: string }).errorCode }, "collector-nutanix failed");
  process.exit(1);
});
