// The console gateway's settings, read from the environment (apps/console/server/main.ts).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defaultServiceUrls } from "./routes";

export interface ConsoleSettings {
  host: string;
  port: number;
  distDir: string;
  services: Record<string, string>;
}

/** The gateway's settings from the environment; throws on a CONSOLE_ADDR that is not host:port. */
export function consoleSettings(env: Record<string, string | undefined>, here = path.dirname(fileURLToPath(import.meta.url))): ConsoleSettings {
  const addr = env.CONSOLE_ADDR || "0.0.0.0:8090";
  const separator = addr.lastIndexOf(":");
  const port = Number(addr.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`CONSOLE_ADDR must be host:port, got "${addr}"`);
  return {
    host: addr.slice(0, separator).replace(/^\[(.*)\]$/, "$1"),
    port,
    distDir: env.CONSOLE_DIST_DIR || path.resolve(here, "../dist"),
    services: defaultServiceUrls(env),
  };
}
