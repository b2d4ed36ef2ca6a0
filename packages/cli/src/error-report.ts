import { CliError, EXIT_ERROR, EXIT_USAGE, UsageError } from "./cli-error";

/** What to tell the user for each platform error code, besides the message. */
const HINTS: Record<string, string> = {
  ERROR_AUTHENTICATE_FAILURE: "run cfctl login (or check CLOUDFORET_API_KEY / CLOUDFORET_USER_ID)",
  ERROR_PERMISSION_DENIED: "your roles do not allow this; cfctl whoami shows them",
  ERROR_NOT_FOUND: "cfctl list <resource> shows what exists",
  ERROR_CONFLICT: "it exists already or is in a state that forbids this; cfctl apply updates in place",
  ERROR_RATE_LIMITED: "too many requests; wait a moment and try again",
  ERROR_TIMEOUT: "the call took too long; try again",
  ERROR_SERVICE_UNAVAILABLE: "is the platform running? check the URL of cfctl login or CLOUDFORET_API_URL",
  ERROR_UNKNOWN: "the service failed; its logs have the details (request id above)",
};

/**
 * Prints a failure as `error: <ERROR_CODE>: <message>` plus a `hint:` line, never a stack
 * trace (CFCTL_DEBUG=1 adds it), and returns the exit code.
 */
export async function reportError(err: unknown, write: (text: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (err instanceof UsageError) {
    write(`error: ${err.message}\n`);
    write(`hint: cfctl ${err.command ? `${err.command} ` : ""}--help\n`);
    return EXIT_USAGE;
  }
  // Usage errors answer without loading the SDK; any other error may be one of its classes.
  const { APIError, ConnectionError } = await import("@cloudforet/sdk");
  let code: string;
  let message: string;
  let hint: string | undefined;
  if (err instanceof APIError) {
    code = err.errorCode;
    message = err.message;
    const parameter = err.details.parameter;
    hint =
      err instanceof ConnectionError
        ? "cannot reach the service: is the platform running at the URL of cfctl login (or CLOUDFORET_API_URL)?"
        : code === "ERROR_INVALID_PARAMETER" && parameter
          ? `check ${parameter}`
          : HINTS[code];
    if (err.requestId) message += ` (request ${err.requestId})`;
  } else if (err instanceof CliError) {
    code = err.errorCode;
    message = err.message;
    hint = err.hint;
  } else {
    code = "ERROR_UNKNOWN";
    message = err instanceof Error ? err.message : String(err);
    hint = "a bug in cfctl? CFCTL_DEBUG=1 prints the stack";
  }
  write(`error: ${code}: ${message}\n`);
  if (hint) write(`hint: ${hint}\n`);
  if (env.CFCTL_DEBUG && err instanceof Error && err.stack) write(`${err.stack}\n`);
  return EXIT_ERROR;
}
