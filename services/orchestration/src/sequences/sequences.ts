import { randomUUID } from "node:crypto";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import type { SequenceRow } from "../db/schema";
import type { Block } from "../definitions/blocks";
import { validateDefinition } from "../definitions/validate-definition";
import { isUuid } from "../ids";
import type { SequenceRepository } from "./sequence-repository";

export interface NewSequence {
  id?: string;
  tenantId: string;
  namespace: string;
  name: string;
  /** 1 when absent or 0. */
  version?: number;
  blocks: unknown;
  createdAt?: Date;
}

const NAME = /^[^\s/][^/]{0,254}$/;

/** Required text field: present, a string, at most `max` characters. */
export function requireText(value: unknown, parameter: string, max = 256): string {
  if (value === undefined || value === null || value === "") throw missingParameter(parameter);
  if (typeof value !== "string") throw invalidParameter(`${parameter} must be a string`, { parameter });
  if (value.length > max) throw invalidParameter(`${parameter} must be at most ${max} characters`, { parameter });
  return value;
}

/** Sequence definitions: create (validated, versioned, immutable), read by id or by name. */
export class Sequences {
  constructor(private readonly repo: SequenceRepository) {}

  async create(input: NewSequence): Promise<SequenceRow> {
    if (input.id !== undefined && input.id !== "" && !isUuid(input.id)) throw invalidParameter("id must be a UUID", { parameter: "id", value: input.id });
    const tenantId = requireText(input.tenantId, "tenant_id");
    const namespace = requireText(input.namespace, "namespace", 128);
    const name = requireText(input.name, "name");
    if (!NAME.test(name)) throw invalidParameter("name must not contain '/' or start with a space", { parameter: "name", value: name });
    const version = input.version === undefined || input.version === 0 ? 1 : input.version;
    if (!Number.isInteger(version) || version < 1) throw invalidParameter("version must be an integer ≥ 1", { parameter: "version", value: String(input.version) });
    if (input.blocks === undefined || input.blocks === null) throw missingParameter("blocks");
    validateDefinition(input.blocks);
    // Stored as written (the seed's GET returns the definition it was given); the engine applies defaults.
    const blocks = input.blocks as Block[];
    return this.repo.insert({
      id: input.id ? input.id.toLowerCase() : randomUUID(),
      tenantId,
      namespace,
      name,
      version,
      blocks,
      createdAt: input.createdAt ?? new Date(),
    });
  }

  /** `tenant` restricts the lookup to one tenant (a caller never sees another's sequences). */
  async get(id: string, tenant?: string): Promise<SequenceRow> {
    const row = isUuid(id) ? await this.repo.getById(id.toLowerCase()) : undefined;
    if (!row || (tenant !== undefined && row.tenantId !== tenant)) throw notFound("sequence not found", { id });
    return row;
  }

  async getByName(tenantId: string, namespace: string, name: string, version?: number): Promise<SequenceRow> {
    requireText(tenantId, "tenant_id");
    requireText(namespace, "namespace", 128);
    requireText(name, "name");
    if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw invalidParameter("version must be an integer ≥ 1", { parameter: "version" });
    const row = await this.repo.getByName(tenantId, namespace, name, version);
    if (!row) throw notFound("sequence not found", { tenant_id: tenantId, namespace, name, ...(version !== undefined ? { version } : {}) });
    return row;
  }
}
