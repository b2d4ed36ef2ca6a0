import { resolve } from "node:path";
import { UsageError } from "../cli-error";
import { parseCommandArgs, type Command } from "../command";
import { readConfigFile, writeConfigFile, type CfctlConfig } from "../config-file";
import { outputFormat, renderList } from "../output/render";

const HELP = `Usage: cfctl config <subcommand>

Named contexts, as kubectl's: each holds a platform URL (or per-service endpoints), a domain,
a user and a credential. Every command uses the current context; CFCTL_CONTEXT=NAME picks
another one for a single command. cfctl login saves into the context in use.

Subcommands:
  get-contexts [-o table|json|yaml|name]  list the contexts (* marks the current one)
  current-context                         print the current context's name
  use-context NAME                        make NAME the current context
  set-context NAME [--endpoint URL] [--api-key-file FILE] [--user ID] [--domain ID]
                                          create NAME, or change the given fields of it
  delete-context NAME                     remove NAME (its saved credentials with it)

A config file of an earlier cfctl (one platform, no contexts) reads as the context "default".

Examples:
  cfctl config set-context prod --endpoint https://cloudforet.example.com --user ops --api-key-file ~/.cfk-prod
  cfctl config use-context prod
  CFCTL_CONTEXT=staging cfctl list jobs
`;

export const configCommand: Command = {
  name: "config",
  help: HELP,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "config", {
      endpoint: { type: "string" },
      "api-key-file": { type: "string" },
      user: { type: "string" },
      domain: { type: "string" },
      output: { type: "string", short: "o" },
    });
    if (values.help || positionals.length === 0) return ctx.stdout.write(HELP), values.help ? 0 : 2;
    const [sub, name, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`config ${sub} takes at most one name, got "${positionals.slice(1).join(" ")}"`, "config");
    const file = await readConfigFile(ctx.configPath);
    const needName = (): string => {
      if (!name) throw new UsageError(`config ${sub} needs a context name`, "config");
      return name;
    };
    switch (sub) {
      case "get-contexts": {
        const rows = Object.entries(file.contexts).map(([contextName, c]) => ({
          current: contextName === file["current-context"] ? "*" : "",
          name: contextName,
          url: c.url ?? Object.values(c.endpoints ?? {})[0] ?? "",
          user: c.user_id ?? "",
          domain: c.domain_id ?? "",
          credentials: c.api_key_file ? `key file ${c.api_key_file}` : c.api_key ? "api key" : c.token ? "token" : "none",
        }));
        const format = outputFormat(values.output, "config");
        if (format === "name") return ctx.stdout.write(rows.map((r) => `${r.name}\n`).join("")), 0;
        renderList(rows, format, ["current", "name", "url", "user", "domain", "credentials"], ctx.stdout);
        return 0;
      }
      case "current-context":
        ctx.stdout.write(`${file["current-context"]}\n`);
        return 0;
      case "use-context": {
        const target = needName();
        if (!file.contexts[target]) throw new UsageError(`no context "${target}"; create it with cfctl config set-context ${target} --endpoint URL`, "config");
        file["current-context"] = target;
        await writeConfigFile(ctx.configPath, file);
        ctx.stdout.write(`Switched to context "${target}".\n`);
        return 0;
      }
      case "set-context": {
        const target = needName();
        const existed = Boolean(file.contexts[target]);
        const context: CfctlConfig = { ...file.contexts[target] };
        if (values.endpoint !== undefined) context.url = values.endpoint;
        if (values.user !== undefined) context.user_id = values.user;
        if (values.domain !== undefined) context.domain_id = values.domain;
        if (values["api-key-file"] !== undefined) {
          // The key stays in its file (read on every command); a key saved by login gives way to it.
          context.api_key_file = resolve(values["api-key-file"]);
          delete context.api_key;
          delete context.api_key_id;
          delete context.token;
        }
        file.contexts[target] = context;
        if (Object.keys(file.contexts).length === 1) file["current-context"] = target;
        await writeConfigFile(ctx.configPath, file);
        ctx.stdout.write(`Context "${target}" ${existed ? "modified" : "created"}.\n`);
        return 0;
      }
      case "delete-context": {
        const target = needName();
        if (!file.contexts[target]) throw new UsageError(`no context "${target}"`, "config");
        delete file.contexts[target];
        await writeConfigFile(ctx.configPath, file);
        ctx.stdout.write(`Deleted context "${target}".\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown config subcommand "${sub}"`, "config");
    }
  },
};
