import type { Logger } from "pino";

let installed: { logger: Logger; uncaught: (err: unknown, origin: string) => void; unhandled: (reason: unknown) => void } | undefined;

/**
 * The process's last resort: an exception nothing caught or a promise rejection nothing handled is
 * logged (with its stack) and the process keeps serving, instead of one bad request taking down
 * every call in flight and, in processes mode, the service until it is restarted. Installed once
 * per process (several services share one in the embedded mode); a later call only swaps the logger.
 * Returns the uninstaller (tests).
 */
export function installLastResortHandlers(logger: Logger): () => void {
  if (installed) {
    installed.logger = logger;
    return uninstall;
  }
  const state = {
    logger,
    uncaught(err: unknown, origin: string) {
      state.logger.error({ err, origin }, "uncaught exception; still serving");
    },
    unhandled(reason: unknown) {
      state.logger.error({ err: reason }, "unhandled promise rejection; still serving");
    },
  };
  installed = state;
  process.on("uncaughtException", state.uncaught);
  process.on("unhandledRejection", state.unhandled);
  return uninstall;
}

function uninstall(): void {
  if (!installed) return;
  process.off("uncaughtException", installed.uncaught);
  process.off("unhandledRejection", installed.unhandled);
  installed = undefined;
}
