import { hostname } from "node:os";
import type { ClientOptions } from "@cloudforet/sdk";
import { CliError, UsageError } from "../cli-error";
import { clientOf, configOf, parseCommandArgs, type Command, type CommandContext } from "../command";
import { writeConfig, type CfctlConfig } from "../config-file";
import { messageJson } from "../message-json";
import { outputFormat, renderOne } from "../output/render";
import { promptLine, readStdin } from "../prompt";
import { UserSchema } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";

const DEFAULT_URL = "http://127.0.0.1";

export const loginCommand: Command = {
  name: "login",
  help: `Usage: cfctl login [--url URL] [--domain NAME] [--user ID] [--password-stdin | --api-key-stdin]

Logs in to the platform and saves what later commands need in ~/.config/cfctl/config.yaml
(CFCTL_CONFIG overrides the path; mode 0600).

With a password (prompted without echo on a terminal, or read from stdin with
--password-stdin), cfctl creates an API key named "cfctl@<host>" for the user and saves the
key, not the password; cfctl logout revokes it. With --api-key-stdin the given key is saved.

Options:
  --url URL          the platform: every service on its standard port (50051-50057) of this
                     host (default: CLOUDFORET_API_URL, the saved URL, else ${DEFAULT_URL})
  --domain NAME      the domain (default domain-default)
  --user ID          the user (default: the saved user)
  --password-stdin   read the password from stdin
  --api-key-stdin    read an API key (cfk_...) from stdin

CLOUDFORET_<SERVICE>_URL (e.g. CLOUDFORET_IDENTITY_URL) points one service elsewhere.

Examples:
  cfctl login --url http://127.0.0.1 --user admin
  echo "$CLOUDFORET_ADMIN_PASSWORD" | cfctl login --user admin --password-stdin
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "login", {
      url: { type: "string" },
      domain: { type: "string" },
      user: { type: "string" },
      "password-stdin": { type: "boolean" },
      "api-key-stdin": { type: "boolean" },
    });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length > 0) throw new UsageError(`login takes no arguments, got "${positionals.join(" ")}"`, "login");
    if (values["password-stdin"] && values["api-key-stdin"]) throw new UsageError("--password-stdin and --api-key-stdin exclude each other", "login");
    const { Client, optionsFromEnv } = await import("@cloudforet/sdk/node");
    const saved = await configOf(ctx);
    const url = values.url ?? ctx.env.CLOUDFORET_API_URL ?? saved.url ?? DEFAULT_URL;
    const domainId = values.domain ?? saved.domain_id ?? "domain-default";
    const interactive = Boolean(ctx.stdin.isTTY);
    let userId = values.user ?? saved.user_id;
    if (!userId) {
      if (!interactive) throw new UsageError("login needs --user", "login");
      userId = (await promptLine(ctx, "User: ", false)).trim();
    }
    if (!userId) throw new UsageError("login needs a user", "login");
    const base: ClientOptions = { userId, domainId, baseUrl: url, urls: { ...saved.endpoints, ...optionsFromEnv(ctx.env).urls } };

    let config: CfctlConfig;
    if (values["api-key-stdin"]) {
      const apiKey = await readStdin(ctx.stdin);
      if (!apiKey) throw new UsageError("--api-key-stdin read an empty key", "login");
      await new Client({ ...base, apiKey }).login();
      config = { url, endpoints: saved.endpoints, domain_id: domainId, user_id: userId, api_key: apiKey };
    } else {
      let password: string;
      if (values["password-stdin"]) password = await readStdin(ctx.stdin);
      else if (interactive) password = await promptLine(ctx, "Password: ", true);
      else throw new UsageError("stdin is not a terminal: pass --password-stdin or --api-key-stdin", "login");
      if (!password) throw new UsageError("empty password", "login");
      const client = new Client({ ...base, password });
      await client.login();
      // The password is exchanged for an API key of this user: it survives token expiry, is
      // listed and revocable like any key, and the password itself is never written to disk.
      const { key, apiKey } = await client.identity.apiKeys.create({ userId, name: `cfctl@${hostname()}` });
      if (saved.api_key_id && saved.user_id === userId && saved.domain_id === domainId) {
        await client.identity.apiKeys.revoke(saved.api_key_id).catch(() => undefined);
      }
      config = { url, endpoints: saved.endpoints, domain_id: domainId, user_id: userId, api_key: apiKey, api_key_id: key.id };
    }
    await writeConfig(ctx.configPath, stripUndefined(config), ctx.env.CFCTL_CONTEXT);
    ctx.stdout.write(`Logged in to ${url} as ${userId} (domain ${domainId}); credentials saved in ${ctx.configPath}\n`);
    return 0;
  },
};

export const logoutCommand: Command = {
  name: "logout",
  help: `Usage: cfctl logout

Removes the saved credentials from the config file. An API key that cfctl login created from a
password is revoked on the server first; a key given with --api-key-stdin is only forgotten.
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "logout", {});
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length > 0) throw new UsageError("logout takes no arguments", "logout");
    const saved = await configOf(ctx);
    const { Client } = await import("@cloudforet/sdk/node");
    const { clientOptions } = await import("../connect");
    if (!saved.api_key && !saved.token) {
      ctx.stdout.write("Not logged in.\n");
      return 0;
    }
    if (saved.api_key_id) {
      try {
        const client = new Client(clientOptions({ ...saved, token: undefined }, { ...ctx.env, CLOUDFORET_API_KEY: "", CLOUDFORET_PASSWORD: "", CLOUDFORET_TOKEN: "" }));
        await client.identity.apiKeys.revoke(saved.api_key_id);
      } catch (err) {
        ctx.stderr(`warning: could not revoke API key ${saved.api_key_id}: ${(err as Error).message}\n`);
      }
    }
    const { api_key: _key, api_key_id: _id, token: _token, api_key_file: _file, ...rest } = saved;
    await writeConfig(ctx.configPath, rest, ctx.env.CFCTL_CONTEXT);
    ctx.stdout.write("Logged out.\n");
    return 0;
  },
};

export const whoamiCommand: Command = {
  name: "whoami",
  help: `Usage: cfctl whoami [-o table|json|yaml]

Shows who the saved login (or the CLOUDFORET_* environment) is: user, domain, roles, and the
platform URL. Fails with ERROR_AUTHENTICATE_FAILURE when the credentials are refused.
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "whoami", { output: { type: "string", short: "o" } });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length > 0) throw new UsageError("whoami takes no arguments", "whoami");
    const format = outputFormat(values.output, "whoami");
    const config = await configOf(ctx);
    const { clientOptions } = await import("../connect");
    const { optionsFromEnv } = await import("@cloudforet/sdk/node");
    const options = clientOptions(config, ctx.env);
    const client = await clientOf(ctx);
    await client.login();
    const userId = options.userId ?? subjectOf(await client.session.token());
    if (!userId) throw new CliError("ERROR_INVALID_PARAMETER", "the token names no user", "set CLOUDFORET_USER_ID");
    const user = messageJson(UserSchema, (await client.identity.users.get(userId)).data);
    const roles = ((user.role_bindings ?? []) as { role: string; workspace_id?: string }[]).map((b) => (b.workspace_id ? `${b.role}@${b.workspace_id}` : b.role));
    const me = {
      user_id: userId,
      name: user.name ?? "",
      domain_id: client.session.domainId,
      roles,
      url: options.baseUrl ?? "",
      credentials: credentialSource(config, ctx, optionsFromEnv(ctx.env)),
    };
    if (format === "table") {
      ctx.stdout.write(Object.entries(me).map(([k, v]) => `${`${k}:`.padEnd(13)}${Array.isArray(v) ? v.join(", ") : v}`).join("\n") + "\n");
    } else renderOne(me, format, [], ctx.stdout);
    return 0;
  },
};

function credentialSource(config: CfctlConfig, ctx: CommandContext, env: ClientOptions): string {
  if (env.apiKey) return "API key from CLOUDFORET_API_KEY";
  if (env.password) return "password from CLOUDFORET_PASSWORD";
  if (env.token) return "token from CLOUDFORET_TOKEN";
  if (config.api_key) return `API key ${config.api_key.slice(0, 8)}… from ${ctx.configPath}`;
  return `token from ${ctx.configPath}`;
}

/** The `sub` claim of a JWT, for a token-only login that names no user. */
function subjectOf(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { sub?: string };
    return payload.sub;
  } catch {
    return undefined;
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
