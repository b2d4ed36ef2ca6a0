import { runCli } from "./cli";
import { configPath } from "./config-file";

// The SDK's retries and circuit breaker log pino JSON to stdout at LOG_LEVEL: that would mix
// with cfctl's output (JOB=$(cfctl collect …)). Silent unless CFCTL_LOG_LEVEL asks otherwise;
// a LOG_LEVEL meant for the platform in the same shell does not apply to cfctl.
process.env.LOG_LEVEL = process.env.CFCTL_LOG_LEVEL ?? "silent";

/** `cfctl …`: runs the command line against the real terminal and exits with its code. */
const exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: {
    write: (text) => void process.stdout.write(text),
    width: process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS) || undefined,
  },
  stderr: (text) => void process.stderr.write(text),
  stdin: process.stdin,
  isTTY: Boolean(process.stdout.isTTY),
  configPath: configPath(process.env),
});
// Let stdout drain before exiting (a pipe may be slower than we are); open streams must not keep us alive.
process.exitCode = exitCode;
process.stdout.write("", () => process.exit(exitCode));
