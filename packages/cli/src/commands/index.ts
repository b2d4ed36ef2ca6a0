import type { Command } from "../command";

/** A command as `cfctl --help` lists it; its module (and the SDK) is loaded only when it runs. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Every cfctl command, in the order `cfctl --help` lists them. */
export const COMMANDS: CommandEntry[] = [
  { name: "login", summary: "Log in and save the credentials", load: async () => (await import("./login")).loginCommand },
  { name: "logout", summary: "Forget the saved credentials (revoking the key cfctl login created)", load: async () => (await import("./login")).logoutCommand },
  { name: "whoami", summary: "Show the user, domain, roles and endpoint cfctl calls as", load: async () => (await import("./login")).whoamiCommand },
  { name: "list", summary: "List resources of any service, with filters, sorting and paging", load: async () => (await import("./list")).listCommand },
  { name: "get", summary: "Show one resource by id", load: async () => (await import("./get")).getCommand },
  { name: "delete", summary: "Delete one resource by id", load: async () => (await import("./get")).deleteCommand },
  { name: "stat", summary: "Count or sum resources grouped by fields", load: async () => (await import("./stat")).statCommand },
  { name: "apply", summary: "Create or update resources from YAML files", load: async () => (await import("./apply")).applyCommand },
  { name: "collect", summary: "Start a collection of a collector (prints the job id)", load: async () => (await import("./job")).collectCommand },
  { name: "schedule", summary: "Enable or disable a collector's schedule, or list its fires", load: async () => (await import("./schedule")).scheduleCommand },
  { name: "job", summary: "Follow a collection job (job watch <job-id>)", load: async () => (await import("./job")).jobCommand },
  { name: "ack", summary: "Acknowledge firing alerts (stops their escalation)", load: async () => (await import("./alert")).ackCommand },
  { name: "resolve", summary: "Resolve an open alert by hand", load: async () => (await import("./alert")).resolveCommand },
  { name: "instance", summary: "Follow a workflow instance (instance watch <id>)", load: async () => (await import("./instance")).instanceCommand },
  { name: "plugins", summary: "The plugin registry: list, get, register, add-version, resolve (dry run)", load: async () => (await import("./plugins")).pluginsCommand },
  { name: "plugin-aliases", summary: "Plugin version aliases: list, create, switch, delete", load: async () => (await import("./plugins")).pluginAliasesCommand },
  { name: "enrollments", summary: "Enroll plugins into the domain or a workspace: list, get, create, cancel", load: async () => (await import("./plugins")).enrollmentsCommand },
  { name: "request-logs", summary: "Turn your request logging on or off; list and show the recorded calls", load: async () => (await import("./request-logs")).requestLogsCommand },
  { name: "diff", summary: "Show how the objects of apply files differ from the server", load: async () => (await import("./diff")).diffCommand },
  { name: "config", summary: "Named contexts: get-contexts, use-context, set-context", load: async () => (await import("./config")).configCommand },
  { name: "completion", summary: "Print a shell completion script (bash, zsh or fish)", load: async () => (await import("./completion")).completionCommand },
];
