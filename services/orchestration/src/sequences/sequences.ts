import { randomUUID } from "node:crypto";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { requireInScope, type Owner, type OwnerScope } from "../access/tenants";
import type { SequenceRow } from "../db/schema";
import type { Block } from "../definitions/blocks";
import { validateDefinition } from "../definitions/validate-definition";
import { isUuid } from "../ids";
import type { SequenceRepository } from "./repository";
import { redactStepSecrets, sealStepSecrets, type StepSecretSealer } from "./step-secrets";

export interface NewSequence {
  id?: string;
  domainId: string;
  tenantId: string;
  namespace: string;
  name: string;
  /** 1 when absent or 0. */
  version?: number;
  blocks: unknown;
  createdAt?: Date;
}

const NAME = /^[^\s/][^/]{0,254}$/;
/** Versions live in an integer column. */
const MAX_VERSION = 2 ** 31 - 1;
const isVersion = (version: number) => Number.isInteger(version) && version >= 1 && version <= MAX_VERSION;

/** Required text field: present, a string, at most `max` characters. */
export function requireText(value: unknown, parameter: string, max = 256): string {
  if (value === undefined || value === null || value === "") throw missingParameter(parameter);
  if (typeof value !== "string") throw invalidParameter(`${parameter} must be a string`, { parameter });
  if (value.length > max) throw invalidParameter(`${parameter} must be at most ${max} characters`, { parameter });
  return value;
}

const redacted = (row: SequenceRow): SequenceRow => ({ ...row, blocks: redactStepSecrets(row.blocks) });

/**
 * Sequence definitions: create (validated, versioned, immutable), read by id or by name. Literal
 * credentials in step params are sealed at rest and every definition read here shows them as "***";
 * only the engine's SequenceCache opens them.
 */
export class Sequences {
  constructor(
    private readonly repo: SequenceRepository,
    private readonly sealer: StepSecretSealer,
  ) {}

  async create(input: NewSequence): Promise<SequenceRow> {
    if (input.id !== undefined && input.id !== "" && !isUuid(input.id)) throw invalidParameter("id must be a UUID", { parameter: "id", value: input.id });
    const tenantId = requireText(input.tenantId, "tenant_id");
    const namespace = requireText(input.namespace, "namespace", 128);
    const name = requireText(input.name, "name");
    if (!NAME.test(name)) throw invalidParameter("name must not contain '/' or start with a space", { parameter: "name", value: name });
    const version = input.version === undefined || input.version === 0 ? 1 : input.version;
    if (!isVersion(version)) throw invalidParameter(`version must be an integer from 1 to ${MAX_VERSION}`, { parameter: "version", value: String(input.version) });
    if (input.blocks === undefined || input.blocks === null) throw missingParameter("blocks");
    validateDefinition(input.blocks);
    // Stored as written (the seed's GET returns the definition it was given) but for sealed credentials; the engine applies defaults.
    const id = input.id ? input.id.toLowerCase() : randomUUID();
    const blocks = sealStepSecrets(input.blocks as Block[], this.sealer, id);
    return redacted(
      await this.repo.insert({
        id,
        domainId: input.domainId,
        tenantId,
        namespace,
        name,
        version,
        blocks,
        createdAt: input.createdAt ?? new Date(),
      }),
    );
  }

  /** `scope` restricts the lookup to a domain and tenant (a caller never sees another's sequences). */
  async get(id: string, scope?: OwnerScope): Promise<SequenceRow> {
    const row = isUuid(id) ? await this.repo.getById(id.toLowerCase()) : undefined;
    return redacted(requireInScope(row, scope, "sequence", id));
  }

  async getByName(owner: Owner, namespace: string, name: string, version?: number): Promise<SequenceRow> {
    const { tenantId } = owner;
    requireText(tenantId, "tenant_id");
    requireText(namespace, "namespace", 128);
    requireText(name, "name");
    if (version !== undefined && !isVersion(version)) throw invalidParameter(`version must be an integer from 1 to ${MAX_VERSION}`, { parameter: "version", value: String(version) });
    const row = await this.repo.getByName(owner, namespace, name, version);
    if (!row) throw notFound("sequence not found", { tenant_id: tenantId, namespace, name, ...(version !== undefined ? { version } : {}) });
    return redacted(row);
  }
}
