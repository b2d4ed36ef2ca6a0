// The console's gateway as a process of its own (a Kubernetes Deployment, or SERVICE=console in the
// image): serves the built console and forwards `/<package>.<Service>/…` calls to the services.
//   CONSOLE_ADDR       host:port to listen on (default 0.0.0.0:8090)
//   CONSOLE_DIST_DIR   the `vite build` output (default apps/console/dist next to this file)
//   <SERVICE>_URL      each service's base URL (IDENTITY_URL, CLOUD_SERVICE_URL, …; routes.ts has the defaults)
// `npm start` does not use this file: it starts the gateway in-process next to the services.
import { startConsoleGateway, type ConsoleGateway } from "./gateway";
import { consoleSettings } from "./settings";

async function main(): Promise<void> {
  const settings = consoleSettings(process.env);
  const gateway: ConsoleGateway = await startConsoleGateway(settings);
  console.log(JSON.stringify({ level: "info", msg: "console listening", url: gateway.url, addr: `${settings.host}:${gateway.port}`, services: settings.services }));
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(JSON.stringify({ level: "info", msg: "console stopping", signal }));
    void gateway.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: "fatal", msg: "console failed to start", err: String(err) }));
  process.exit(1);
});
