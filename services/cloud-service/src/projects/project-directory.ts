import { Code } from "@connectrpc/connect";
import { invalidParameter, PlatformError, serviceUnavailable } from "@cloudforet/errors";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { ClientError, createServiceClient } from "@cloudforet/resilience";
import type { Logger } from "pino";

/** Finds the workspace of a project (resources follow their project's workspace). */
export interface ProjectDirectory {
  /** The project's workspace, asked as the caller; ERROR_INVALID_PARAMETER naming project_id when it is not visible. */
  workspaceOf(projectId: string, authorization: string | null): Promise<string>;
}

/** Asks identity's ProjectService, with the caller's own token, so identity applies its access rules. */
export function identityProjectDirectory(identityUrl: string, logger: Logger): ProjectDirectory {
  const projects = createServiceClient(ProjectService, identityUrl, { logger, upstream: "identity", timeoutMs: 10_000 });
  return {
    async workspaceOf(projectId, authorization) {
      try {
        const project = await projects.get({ projectId }, { headers: authorization ? { authorization } : {} });
        return project.workspaceId;
      } catch (err) {
        throw fromIdentity(err, projectId);
      }
    },
  };
}

function fromIdentity(err: unknown, projectId: string): PlatformError {
  const failure = ClientError.from(err);
  if (failure.grpcCode === Code.NotFound || failure.grpcCode === Code.PermissionDenied || failure.grpcCode === Code.InvalidArgument) {
    return invalidParameter("Project not found or not accessible", { parameter: "project_id", value: projectId });
  }
  return serviceUnavailable(`identity could not resolve the project: ${failure.message}`, { project_id: projectId });
}
