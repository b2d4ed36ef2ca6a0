export { runCli, mainHelp } from "./cli";
export { EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError, UsageError } from "./cli-error";
export type { CommandContext } from "./command";
export { configPath, readConfig, writeConfig, type CfctlConfig } from "./config-file";
export { parseFilter, parseSort } from "./filters";
export { renderTable } from "./output/table";
export { expandEnv } from "./apply/documents";
export { progressLine } from "./commands/job";
