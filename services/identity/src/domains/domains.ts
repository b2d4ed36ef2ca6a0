import { illegalTransition, invalidParameter, notFound, permissionDenied } from "@cloudforet/errors";
import { DEFAULT_DOMAIN_ID, type Access } from "../access/access";
import { hashPassword } from "../crypto/password-hash";
import { validateTags } from "@cloudforet/query";
import { entityId, validName, validPassword, validUserId } from "../fields/field-rules";
import type { DomainRow } from "../db/schema";
import type { DomainRepository, NewDomain } from "./repository";

export interface CreateDomainInput {
  domainId: string;
  name: string;
  tags: Record<string, string>;
  adminUserId: string;
  adminPassword: string;
}

/** Tenants are managed by the platform administrator: DOMAIN_ADMIN of domain-default. */
export class DomainRules {
  constructor(private readonly domains: DomainRepository) {}

  async create(access: Access, input: CreateDomainInput): Promise<DomainRow> {
    requirePlatformAdmin(access, "Creating a domain");
    const domain: NewDomain = {
      domainId: entityId(input.domainId, "domain_id", "domain"),
      name: validName(input.name),
      tags: validateTags(input.tags),
    };
    if (input.adminUserId || input.adminPassword) {
      const userId = validUserId(input.adminUserId, "admin_user_id");
      domain.admin = { userId, passwordHash: await hashPassword(validPassword(input.adminPassword, "admin_password")) };
    }
    return this.domains.create(domain);
  }

  /** Any caller may read its own domain; the platform administrator any domain. */
  async get(access: Access, domainId: string): Promise<DomainRow> {
    const id = domainId || access.domainId;
    if (id !== access.domainId && !access.isPlatformAdmin) {
      throw permissionDenied("Only the platform administrator may read other domains", { domain_id: id });
    }
    const row = await this.domains.get(id);
    if (!row) throw notFound("Domain not found", { domain_id: id });
    return row;
  }

  list(access: Access, query: Parameters<DomainRepository["list"]>[0]) {
    requirePlatformAdmin(access, "Listing domains");
    return this.domains.list(query);
  }

  async delete(access: Access, domainId: string): Promise<void> {
    requirePlatformAdmin(access, "Deleting a domain");
    if (!domainId) throw invalidParameter("Missing required field", { parameter: "domain_id" });
    if (domainId === DEFAULT_DOMAIN_ID) throw illegalTransition("domain-default cannot be deleted", { domain_id: domainId });
    if (!(await this.domains.delete(domainId))) throw notFound("Domain not found", { domain_id: domainId });
  }
}

function requirePlatformAdmin(access: Access, action: string): void {
  if (!access.isPlatformAdmin) {
    throw permissionDenied(`${action} needs the DOMAIN_ADMIN role in ${DEFAULT_DOMAIN_ID}`, { domain_id: access.domainId });
  }
}
