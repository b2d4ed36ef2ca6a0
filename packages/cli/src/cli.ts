import { EXIT_OK, UsageError } from "./cli-error";
import type { CommandContext } from "./command";
import { COMMANDS } from "./commands/index";
import { reportError } from "./error-report";

export function mainHelp(): string {
  return `cfctl: the command line of CloudForet-TS

Usage: cfctl <command> [arguments] [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join("\n")}

Run cfctl <command> --help for a command's options.

Configuration: ~/.config/cfctl/config.yaml (CFCTL_CONFIG), written by cfctl login; named
contexts with cfctl config (CFCTL_CONTEXT picks one for a single command).
CLOUDFORET_API_KEY (with CLOUDFORET_USER_ID) or CLOUDFORET_TOKEN, CLOUDFORET_API_URL and
CLOUDFORET_<SERVICE>_URL override it.

Exit codes: 0 success, 1 an error (printed as "error: <ERROR_CODE>: <message>"), 2 a usage error.
`;
}

/** Runs one command line (without `node cfctl`); returns the exit code. Never throws. */
export async function runCli(ctx: CommandContext): Promise<number> {
  const [name, ...rest] = ctx.argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      if (name === "help" && rest[0]) return await runCli({ ...ctx, argv: [rest[0], "--help"] });
      ctx.stdout.write(mainHelp());
      return name === undefined ? 2 : EXIT_OK;
    }
    if (name === "--version") {
      ctx.stdout.write("cfctl 0.1.0\n");
      return EXIT_OK;
    }
    const entry = COMMANDS.find((c) => c.name === name);
    if (!entry) throw new UsageError(`unknown command "${name}"`);
    return await (await entry.load()).run({ ...ctx, argv: rest, commands: COMMANDS.map((c) => c.name) });
  } catch (err) {
    return await reportError(err, ctx.stderr, ctx.env);
  }
}
