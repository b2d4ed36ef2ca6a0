/** Exit codes of cfctl (README "cfctl"): 0 success, 1 an error, 2 a usage error. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** A mistake in the command line itself (unknown command, flag or resource): exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
  constructor(
    message: string,
    /** The command whose `--help` explains the right usage. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/**
 * A failure cfctl detects itself (not logged in, a refused apply document, a failed job),
 * printed like a platform error: `error: <code>: <message>` and a hint.
 */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    readonly errorCode: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
