// Over 300 lines on purpose: the table of every kind `cfctl apply` knows, one entry per kind.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fromJson, toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { NotFoundError, type Client } from "@cloudforet/sdk";
import { Trigger_TriggerType } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import YAML from "yaml";
import { CliError } from "../cli-error";
import { sameJson, tagChanges } from "./compare";
import type { ApplyDocument } from "./documents";
import { specOf } from "./fields";

export type ApplyOutcome = "created" | "updated" | "unchanged" | `updated (${string})`;

/** How one kind of document is created or brought up to date, idempotently, by its name. */
export interface KindApplier {
  kind: string;
  /** The word of the output line (`collector/nutanix created`). */
  label: string;
  apply(client: Client, doc: ApplyDocument, env: NodeJS.ProcessEnv): Promise<ApplyOutcome>;
}

/** Reads a resource, or undefined when it does not exist. */
async function existing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

const workspace: KindApplier = {
  kind: "Workspace",
  label: "workspace",
  async apply(client, doc) {
    const spec = specOf(doc);
    const workspaceId = doc.metadata.name;
    const tags = spec.labels("tags");
    const current = await existing(() => client.identity.workspaces.get(workspaceId));
    if (!current) {
      await client.identity.workspaces.create({ workspaceId, name: spec.string("name") ?? workspaceId, tags: tags ?? {} });
      return "created";
    }
    const changes = tagChanges(current.data.tags, tags);
    if (!changes) return "unchanged";
    await current.update(changes);
    return "updated";
  },
};

/** A `valueFrom` reference's text: an environment variable or a file (relative to the YAML file). */
async function referencedText(doc: ApplyDocument, ref: JsonValue, field: string, env: NodeJS.ProcessEnv): Promise<string> {
  const refusal = (message: string) => new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: Secret ${doc.metadata.name}: ${field} ${message}`);
  if (ref === null || typeof ref !== "object" || Array.isArray(ref)) throw refusal("must be { env: NAME } or { file: path }");
  if (typeof ref.env === "string") {
    const value = env[ref.env];
    if (value === undefined) throw refusal(`reads $${ref.env}, which is not set`);
    return value;
  }
  if (typeof ref.file === "string") {
    try {
      return (await readFile(resolve(doc.baseDir, ref.file), "utf8")).replace(/\r?\n$/, "");
    } catch (err) {
      throw refusal(`cannot read ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  throw refusal("must be { env: NAME } or { file: path }");
}

/**
 * A secret's value, by reference only: the whole object from `spec.valueFrom` (a JSON or YAML
 * mapping), or each key of `spec.data` from its own `valueFrom`. Plaintext in the file is
 * refused, so apply files can be committed.
 */
async function secretValue(doc: ApplyDocument, env: NodeJS.ProcessEnv): Promise<JsonObject> {
  const plaintext = (field: string) =>
    new CliError(
      "ERROR_INVALID_PARAMETER",
      `${doc.source}: Secret ${doc.metadata.name}: ${field} is an inline plaintext value; secrets take values by reference only`,
      "write valueFrom: { env: NAME } or valueFrom: { file: path }",
    );
  const { data, valueFrom } = doc.spec;
  if ((data === undefined) === (valueFrom === undefined)) {
    throw new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: Secret ${doc.metadata.name}: give spec.data (one valueFrom per key) or spec.valueFrom (the whole value)`);
  }
  if (valueFrom !== undefined) {
    const text = await referencedText(doc, valueFrom, "spec.valueFrom", env);
    let parsed: unknown;
    try {
      parsed = YAML.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: Secret ${doc.metadata.name}: spec.valueFrom must hold a JSON or YAML mapping`);
    }
    return parsed as JsonObject;
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw plaintext("spec.data");
  const value: JsonObject = {};
  for (const [key, entry] of Object.entries(data)) {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry) || !("valueFrom" in entry)) throw plaintext(`spec.data.${key}`);
    value[key] = await referencedText(doc, entry.valueFrom, `spec.data.${key}.valueFrom`, env);
  }
  return value;
}

async function secretByName(client: Client, name: string, workspaceId?: string) {
  const filter = [{ k: "name", v: name }, ...(workspaceId ? [{ k: "workspace_id", v: workspaceId }] : [])];
  for await (const secret of client.identity.secrets.list({ filter, pageSize: 1 })) return secret;
  return undefined;
}

const secret: KindApplier = {
  kind: "Secret",
  label: "secret",
  async apply(client, doc, env) {
    const spec = specOf(doc);
    const name = doc.metadata.name;
    const workspaceId = spec.string("workspace_id");
    const tags = spec.labels("tags");
    const value = await secretValue(doc, env);
    const current = await secretByName(client, name, workspaceId);
    if (current) {
      // Compared with the stored value (decrypted), never printed.
      const stored = await current.getData();
      if (sameJson(stored, value) && !tagChanges(current.data.tags, tags)) return "unchanged";
    }
    await client.secrets.set(name, value, { workspaceId, tags: tags ?? current?.data.tags ?? {} });
    return current ? "updated" : "created";
  },
};

const serviceAccount: KindApplier = {
  kind: "ServiceAccount",
  label: "service-account",
  async apply(client, doc) {
    const spec = specOf(doc);
    const serviceAccountId = doc.metadata.name;
    const workspaceId = spec.string("workspace_id");
    const secretName = spec.string("secret");
    let secretId = spec.string("secret_id");
    if (secretName !== undefined) {
      const found = await secretByName(client, secretName, workspaceId);
      if (!found) throw new CliError("ERROR_NOT_FOUND", `${doc.source}: ServiceAccount ${serviceAccountId}: secret ${secretName} does not exist`, "apply the Secret first (in the same apply is fine)");
      secretId = found.id;
    }
    const name = spec.string("name") ?? serviceAccountId;
    const provider = spec.requiredString("provider");
    const projectId = spec.string("project_id");
    const data = spec.mapping("data");
    const tags = spec.labels("tags");
    const current = await existing(() => client.identity.serviceAccounts.get(serviceAccountId));
    if (!current) {
      await client.identity.serviceAccounts.create({ serviceAccountId, name, provider, workspaceId: workspaceId ?? "", projectId: projectId ?? "", secretId: secretId ?? "", data, tags: tags ?? {} });
      return "created";
    }
    const was = current.data;
    if (was.provider !== provider) throw new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: ServiceAccount ${serviceAccountId}: provider cannot change (${was.provider} → ${provider})`);
    const changes = {
      ...(was.name !== name ? { name } : {}),
      ...(data !== undefined && !sameJson(was.data ?? {}, data) ? { data } : {}),
      ...(secretId !== undefined && was.secretId !== secretId ? { secretId } : {}),
      ...(projectId !== undefined && was.projectId !== projectId ? { projectId } : {}),
      ...tagChanges(was.tags, tags),
    };
    if (Object.keys(changes).length === 0) return "unchanged";
    await client.identity.serviceAccounts.update(serviceAccountId, changes);
    return "updated";
  },
};

const collector: KindApplier = {
  kind: "Collector",
  label: "collector",
  async apply(client, doc) {
    const spec = specOf(doc);
    const collectorId = doc.metadata.name;
    const name = spec.string("name") ?? collectorId;
    const provider = spec.requiredString("provider");
    const plugin = spec.mapping("plugin_info") ?? {};
    const endpoint = typeof plugin.endpoint === "string" ? plugin.endpoint : "";
    const options = (plugin.options ?? {}) as JsonObject;
    const tags = spec.labels("tags");
    const current = await existing(() => client.inventory.collectors.get(collectorId));
    if (!current) {
      await client.inventory.collectors.create({
        collectorId,
        name,
        provider,
        workspaceId: spec.string("workspace_id") ?? "",
        pluginInfo: { endpoint, options },
        tags: tags ?? {},
      });
      return "created";
    }
    const was = current.data;
    if (was.provider !== provider) throw new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: Collector ${collectorId}: provider cannot change (${was.provider} → ${provider})`);
    const pluginChanged = (was.pluginInfo?.endpoint ?? "") !== endpoint || !sameJson(was.pluginInfo?.options ?? {}, options);
    const changes = {
      ...(was.name !== name ? { name } : {}),
      ...(pluginChanged ? { pluginInfo: { endpoint, options } } : {}),
      ...tagChanges(was.tags, tags),
    };
    if (Object.keys(changes).length === 0) return "unchanged";
    await current.update(changes);
    return "updated";
  },
};

const sequence: KindApplier = {
  kind: "Sequence",
  label: "sequence",
  async apply(client, doc) {
    const spec = specOf(doc);
    const name = doc.metadata.name;
    const namespace = spec.string("namespace") ?? "default";
    const blocks = spec.array("blocks");
    if (!blocks) throw new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: Sequence ${name}: spec.blocks is required`);
    const current = await existing(() => client.orchestration.sequences.getByName({ namespace, name }));
    if (current && sameJson(current.blocks, blocks)) return "unchanged";
    // Sequences are immutable and versioned: a change is a new version; instances keep theirs.
    const version = current ? current.version + 1 : 1;
    await client.orchestration.sequences.create({ namespace, name, version, blocks: blocks as JsonObject[] });
    return current ? `updated (version ${version})` : "created";
  },
};

/** The id of the latest version of a sequence named in a document (`spec.sequence`), or `spec.sequence_id`. */
async function sequenceIdOf(client: Client, doc: ApplyDocument, namespace: string): Promise<string> {
  const spec = specOf(doc);
  const id = spec.string("sequence_id");
  if (id) return id;
  const name = spec.requiredString("sequence");
  const found = await existing(() => client.orchestration.sequences.getByName({ namespace, name }));
  if (!found) throw new CliError("ERROR_NOT_FOUND", `${doc.source}: ${doc.kind} ${doc.metadata.name}: sequence ${namespace}/${name} does not exist`, "apply the Sequence first (in the same apply is fine)");
  return found.id;
}

/**
 * Cron schedules have no name of their own: cfctl keeps the document's name in the schedule's
 * `metadata.name` and finds it there. A schedule follows the latest version of its sequence
 * (a changed sequence moves it, by recreating it: the sequence of a schedule cannot change).
 */
const cronSchedule: KindApplier = {
  kind: "CronSchedule",
  label: "cron-schedule",
  async apply(client, doc) {
    const spec = specOf(doc);
    const name = doc.metadata.name;
    const namespace = spec.string("namespace") ?? "default";
    const sequenceId = await sequenceIdOf(client, doc, namespace);
    const desired = {
      cronExpr: spec.requiredString("cron_expr"),
      timezone: spec.string("timezone") ?? "UTC",
      enabled: spec.boolean("enabled") ?? true,
      metadata: { ...(spec.mapping("metadata") ?? {}), name },
    };
    let current;
    for await (const schedule of client.orchestration.cronSchedules.list({ namespace })) {
      if (schedule.data.metadata?.name === name) {
        current = schedule;
        break;
      }
    }
    if (current && current.data.sequenceId !== sequenceId) {
      await current.delete();
      await client.orchestration.cronSchedules.create({ namespace, sequenceId, ...desired });
      return "updated";
    }
    if (!current) {
      await client.orchestration.cronSchedules.create({ namespace, sequenceId, ...desired });
      return "created";
    }
    const was = current.data;
    if (was.cronExpr === desired.cronExpr && was.timezone === desired.timezone && was.enabled === desired.enabled && sameJson(was.metadata ?? {}, desired.metadata)) return "unchanged";
    await current.update(desired);
    return "updated";
  },
};

/** Triggers by slug (`metadata.name`): `sequence` (a name) or `sequence_id`, `trigger_type`, `enabled`. */
const trigger: KindApplier = {
  kind: "Trigger",
  label: "trigger",
  async apply(client, doc) {
    const spec = specOf(doc);
    const slug = doc.metadata.name;
    const namespace = spec.string("namespace") ?? "default";
    const sequenceName = spec.string("sequence") ?? "";
    const sequenceId = spec.string("sequence_id") ?? "";
    if (!sequenceName === !sequenceId) throw new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: Trigger ${slug}: give spec.sequence (a name) or spec.sequence_id`);
    const typeName = (spec.string("trigger_type") ?? "WEBHOOK").toUpperCase();
    const triggerType = Trigger_TriggerType[typeName as keyof typeof Trigger_TriggerType];
    if (triggerType === undefined) throw new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: Trigger ${slug}: spec.trigger_type must be WEBHOOK or EVENT`);
    const enabled = spec.boolean("enabled") ?? true;
    const current = await existing(() => client.orchestration.triggers.get(slug));
    if (!current) {
      await client.orchestration.triggers.create({ slug, namespace, sequenceName, sequenceId, enabled, triggerType });
      return "created";
    }
    const was = current.data;
    if (was.namespace === namespace && was.sequenceName === sequenceName && was.sequenceId === sequenceId && was.enabled === enabled && was.triggerType === triggerType) {
      return "unchanged";
    }
    await current.update({ namespace, sequenceName, sequenceId, enabled, triggerType });
    return "updated";
  },
};

/** The kinds `cfctl apply` knows, in the order they are applied (a secret before its account …). */
/**
 * A collector rule by id (metadata.name): spec name, collector_id (empty: a domain rule; it cannot
 * change), conditions [{k, v, o}], conditions_policy, actions {change_project, add_tags, change_data},
 * stop_processing. New rules go to the end of their collector's order (cfctl leaves the order alone).
 */
const collectorRule: KindApplier = {
  kind: "CollectorRule",
  label: "collector-rule",
  async apply(client, doc) {
    const spec = specOf(doc);
    const collectorRuleId = doc.metadata.name;
    const collectorId = spec.string("collector_id") ?? "";
    const conditionsJson = (spec.array("conditions") ?? []).map((c) => (c && typeof c === "object" && !Array.isArray(c) ? c : {}) as JsonObject);
    const conditions = conditionsJson.map((c) => ({ k: String(c.k ?? ""), o: String(c.o ?? "eq"), v: c.v === undefined ? undefined : fromJson(ValueSchema, c.v) }));
    const actions = spec.mapping("actions") ?? {};
    const wanted = {
      name: spec.string("name") ?? collectorRuleId,
      conditionsPolicy: spec.string("conditions_policy") ?? "ALL",
      actions: {
        changeProject: typeof actions.change_project === "string" ? actions.change_project : "",
        addTags: (actions.add_tags ?? {}) as Record<string, string>,
        changeData: (actions.change_data ?? {}) as JsonObject,
      },
      stopProcessing: spec.boolean("stop_processing") ?? false,
    };
    const current = await existing(() => client.collectorRules.get(collectorRuleId));
    if (!current) {
      await client.collectorRules.create({ collectorRuleId, collectorId, conditions, ...wanted });
      return "created";
    }
    const was = current.data;
    if (was.collectorId !== collectorId) {
      throw new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: CollectorRule ${collectorRuleId}: collector_id cannot change (${was.collectorId || "(domain)"} → ${collectorId || "(domain)"})`);
    }
    const wasConditions = was.conditions.map((f) => ({ k: f.k, o: f.o || "eq", v: f.v ? toJson(ValueSchema, f.v) : null }));
    const conditionsChanged = !sameJson(wasConditions, conditionsJson.map((c) => ({ k: String(c.k ?? ""), o: String(c.o ?? "eq"), v: c.v ?? null })));
    const wasActions = { changeProject: was.actions?.changeProject ?? "", addTags: was.actions?.addTags ?? {}, changeData: was.actions?.changeData ?? {} };
    const changes = {
      ...(was.name !== wanted.name ? { name: wanted.name } : {}),
      ...(was.conditionsPolicy !== wanted.conditionsPolicy ? { conditionsPolicy: wanted.conditionsPolicy } : {}),
      ...(!sameJson(wasActions as unknown as JsonValue, wanted.actions as unknown as JsonValue) ? { actions: wanted.actions } : {}),
      ...(was.stopProcessing !== wanted.stopProcessing ? { stopProcessing: wanted.stopProcessing } : {}),
      ...(conditionsChanged ? { conditions, updateConditions: true } : {}),
    };
    if (Object.keys(changes).length === 0) return "unchanged";
    await current.update(changes);
    return "updated";
  },
};

export const KINDS: KindApplier[] = [workspace, secret, serviceAccount, collector, collectorRule, sequence, cronSchedule, trigger];

export function applierOf(doc: ApplyDocument): KindApplier {
  const found = KINDS.find((k) => k.kind.toLowerCase() === doc.kind.toLowerCase());
  if (!found) throw new CliError("ERROR_INVALID_PARAMETER", `${doc.source}: unknown kind ${doc.kind}; cfctl apply knows ${KINDS.map((k) => k.kind).join(", ")}`);
  return found;
}
