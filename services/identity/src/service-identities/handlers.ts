import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ServiceIdentity_State, ServiceIdentityService } from "@cloudforet/proto/cloudforet/identity/v1/service_identity_pb";
import { Access } from "../access/access";
import type { ServiceIdentityRow } from "../db/schema";
import { principalOf, type ServiceIdentityRules } from "./service-identities";

function toMessage(row: ServiceIdentityRow) {
  return {
    serviceIdentityId: row.serviceIdentityId,
    service: row.service,
    principal: principalOf(row),
    workspaceId: row.workspaceId,
    state: ServiceIdentity_State[row.state],
    grantedBy: row.grantedBy,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    revokedAt: row.revokedAt ? timestampFromDate(row.revokedAt) : undefined,
  };
}

export function serviceIdentityHandlers(rules: ServiceIdentityRules): ServiceImpl<typeof ServiceIdentityService> {
  return {
    async grant(req, ctx) {
      const { row, credential } = await rules.grant(Access.of(ctx), { service: req.service, workspaceId: req.workspaceId });
      return { serviceIdentity: toMessage(row), credential };
    },
    async issueToken(req) {
      const { row, token, expiresAt } = await rules.issueToken(req.credential);
      return { token, expiresAt: timestampFromDate(expiresAt), principal: principalOf(row), domainId: row.domainId, workspaceId: row.workspaceId };
    },
    async revoke(req, ctx) {
      return { serviceIdentity: toMessage(await rules.revoke(Access.of(ctx), req.serviceIdentityId)) };
    },
  };
}
