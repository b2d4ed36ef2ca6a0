import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Client } from "@cloudforet/sdk";
import { UsageError } from "./cli-error";
import { readConfig, type CfctlConfig } from "./config-file";
import type { Output } from "./output/render";

/** What a command runs with: its arguments, the environment and the terminal. */
export interface CommandContext {
  /** The arguments after the command's name. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: Output;
  stderr: (text: string) => void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  /** Whether stdout is a terminal (progress bars, prompts). */
  isTTY: boolean;
  configPath: string;
  /** The names of every command (set by runCli; shell completion lists them). */
  commands?: string[];
}

export interface Command {
  name: string;
  /** The whole `cfctl <command> --help`. */
  help: string;
  run(ctx: CommandContext): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `util.parseArgs` with cfctl's conventions: strict, `--help` anywhere, mistakes as usage errors (exit 2). */
export function parseCommandArgs<O extends Options>(ctx: CommandContext, command: string, options: O) {
  // `--sort -name`: a value that starts with a dash would read as an option; join it as `--sort=-name`.
  const args: string[] = [];
  for (let i = 0; i < ctx.argv.length; i++) {
    const arg = ctx.argv[i];
    const next = ctx.argv[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (name && options[name]?.type === "string" && next !== undefined && /^-[^-]./.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else args.push(arg);
  }
  try {
    return parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ""), command);
  }
}

/** The configured client of a command (the saved login, overridden by the environment). */
export async function clientOf(ctx: CommandContext): Promise<Client> {
  // Loaded here, not on start: --help and usage errors answer without loading the SDK.
  const { connect } = await import("./connect");
  return connect(await configOf(ctx), ctx.env);
}

/** The configuration of the context in use: CFCTL_CONTEXT, else the file's current context. */
export async function configOf(ctx: CommandContext): Promise<CfctlConfig> {
  return readConfig(ctx.configPath, ctx.env.CFCTL_CONTEXT);
}

/** A non-negative integer flag such as `--limit`. */
export function integerFlag(value: string | undefined, flag: string, command: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a non-negative integer, not "${value}"`, command);
  return Number(value);
}
