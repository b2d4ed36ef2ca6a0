import { createHash, randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { emitEvent } from "../db/emit-event";
import { serviceIdentities, type ServiceIdentityRow } from "../db/schema";
import { generatedId } from "../fields/field-rules";

/** Credentials read "cfs_" + 43 url-safe characters (256 random bits, so an unsalted SHA-256 suffices). */
const CREDENTIAL_MARK = "cfs_";

const credentialHash = (credential: string) => createHash("sha256").update(credential, "utf8").digest("hex");

/** All SQL of service identities. */
export class ServiceIdentityRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  /** Stores a new identity with its credential's hash; returns the plaintext credential, which is not kept. */
  async create(input: { domainId: string; workspaceId: string; service: string; grantedBy: string }): Promise<{ row: ServiceIdentityRow; credential: string }> {
    const credential = `${CREDENTIAL_MARK}${randomBytes(32).toString("base64url")}`;
    const row = await this.db.transaction(async (tx) => {
      const [created] = await tx
        .insert(serviceIdentities)
        .values({ ...input, serviceIdentityId: generatedId("si"), credentialHash: credentialHash(credential) })
        .returning();
      await emitEvent(tx, "service_identity", "granted", input.domainId, {
        domain_id: input.domainId,
        service_identity_id: created.serviceIdentityId,
        workspace_id: input.workspaceId,
        service: input.service,
        granted_by: input.grantedBy,
      });
      return created;
    });
    this.onCommit();
    return { row, credential };
  }

  /** The identity a credential belongs to (any state). */
  async byCredential(credential: string): Promise<ServiceIdentityRow | undefined> {
    if (!credential.startsWith(CREDENTIAL_MARK)) return undefined;
    const [row] = await this.db.select().from(serviceIdentities).where(eq(serviceIdentities.credentialHash, credentialHash(credential)));
    return row;
  }

  async get(domainId: string, serviceIdentityId: string): Promise<ServiceIdentityRow | undefined> {
    const [row] = await this.db
      .select()
      .from(serviceIdentities)
      .where(and(eq(serviceIdentities.domainId, domainId), eq(serviceIdentities.serviceIdentityId, serviceIdentityId)));
    return row;
  }

  /** Revokes it (idempotent); undefined when it does not exist in the domain. */
  async revoke(domainId: string, serviceIdentityId: string): Promise<ServiceIdentityRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(serviceIdentities)
        .where(and(eq(serviceIdentities.domainId, domainId), eq(serviceIdentities.serviceIdentityId, serviceIdentityId)))
        .for("update");
      if (!current || current.state === "REVOKED") return current;
      const [revoked] = await tx
        .update(serviceIdentities)
        .set({ state: "REVOKED", revokedAt: new Date() })
        .where(eq(serviceIdentities.serviceIdentityId, serviceIdentityId))
        .returning();
      await emitEvent(tx, "service_identity", "revoked", domainId, { domain_id: domainId, service_identity_id: serviceIdentityId, workspace_id: current.workspaceId });
      return revoked;
    });
    this.onCommit();
    return row;
  }
}
