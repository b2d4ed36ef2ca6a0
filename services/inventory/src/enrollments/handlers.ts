import type { JsonObject } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { EnrollmentService } from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import { tenantScope } from "@cloudforet/query";
import { callerOf, requireDomainAccess, requireWorkspaceAccess, type JsonSealer } from "@cloudforet/runtime";
import { randomUUID } from "node:crypto";
import { validateId } from "../collectors/collectors";
import type { IdentityDirectory } from "../identity-directory";
import type { PluginRouter } from "../plugins/plugin-router";
import { validateVersionRef } from "../plugins/plugins";
import { enrollmentBinding } from "./enrollment-verifier";
import { maskParameters, validateParameters } from "./enrollments";
import type { EnrollmentRepository } from "./repository";
import { enrollmentListMessage, enrollmentMessage } from "./to-message";

export interface EnrollmentDeps {
  enrollments: EnrollmentRepository;
  router: PluginRouter;
  identity: IdentityDirectory;
  sealer: JsonSealer<JsonObject>;
  /** Wakes the verifier on this replica. */
  verifyNow: () => void;
}

function requireEnrollmentId(id: string): string {
  if (!id) throw missingParameter("enrollment_id");
  return validateId("enrollment_id", id);
}

/** Enrollments: DOMAIN_ADMIN for the domain, a workspace owner for its workspace; members read. */
export function enrollmentHandlers(deps: EnrollmentDeps): ServiceImpl<typeof EnrollmentService> {
  const { enrollments, router, identity, sealer, verifyNow } = deps;
  const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization");

  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      if (!req.pluginId) throw missingParameter("plugin_id");
      const pluginId = validateId("plugin_id", req.pluginId);
      const version = validateVersionRef(req.version, "version");
      const parameters = validateParameters(req.parameters ?? {});
      if (req.workspaceId) {
        validateId("workspace_id", req.workspaceId);
        requireWorkspaceAccess(caller, req.workspaceId, "write");
        if (caller.domainAdmin && !(await identity.workspaceExists(req.workspaceId, authorizationOf(ctx)))) {
          throw invalidParameter("Unknown workspace", { parameter: "workspace_id", value: req.workspaceId });
        }
      } else {
        requireDomainAccess(caller, "write");
      }
      // Refused now when the plugin or the version (alias) is unknown; verified later in the background.
      await router.resolve(caller.domainId, pluginId, version);
      const enrollmentId = `enrollment-${randomUUID()}`;
      const row = await enrollments.create({
        domainId: caller.domainId,
        enrollmentId,
        workspaceId: req.workspaceId,
        pluginId,
        version,
        maskedParameters: maskParameters(parameters),
        sealedParameters: sealer.seal(parameters, enrollmentBinding(caller.domainId, enrollmentId)),
      });
      verifyNow();
      return { enrollment: enrollmentMessage(row) };
    },

    async get(req, ctx) {
      const id = requireEnrollmentId(req.enrollmentId);
      const row = await enrollments.get(tenantScope(callerOf(ctx)), id);
      if (!row) throw notFound("Enrollment not found", { enrollment_id: id });
      return { enrollment: enrollmentMessage(row) };
    },

    async list(req, ctx) {
      const { results, total_count } = await enrollments.list(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: results.map(enrollmentListMessage), totalCount: total_count };
    },

    async cancel(req, ctx) {
      const caller = callerOf(ctx);
      const id = requireEnrollmentId(req.enrollmentId);
      const current = await enrollments.get(tenantScope(caller), id);
      if (!current) throw notFound("Enrollment not found", { enrollment_id: id });
      if (current.workspaceId) requireWorkspaceAccess(caller, current.workspaceId, "write");
      else requireDomainAccess(caller, "write");
      const row = await enrollments.cancel(current.domainId, id);
      if (!row) throw notFound("Enrollment not found", { enrollment_id: id });
      return { enrollment: enrollmentMessage(row) };
    },
  };
}
