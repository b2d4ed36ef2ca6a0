import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Enrollment_Status } from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import type { EnrollmentRow, EnrollmentStatus } from "../db/schema";

const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);

/** An enrollment as reads show it: secret-shaped parameters masked, the sealed copy never. */
export function enrollmentMessage(row: EnrollmentRow) {
  return {
    enrollmentId: row.enrollmentId,
    pluginId: row.pluginId,
    version: row.version,
    resolvedVersion: row.resolvedVersion,
    status: Enrollment_Status[row.status],
    reason: row.reason,
    parameters: row.maskedParameters,
    workspaceId: row.workspaceId,
    domainId: row.domainId,
    createdAt: at(row.createdAt),
    updatedAt: at(row.updatedAt),
    verifiedAt: at(row.verifiedAt),
  };
}

export function enrollmentListMessage(row: Record<string, unknown>) {
  return {
    enrollmentId: row.enrollment_id as string | undefined,
    pluginId: row.plugin_id as string | undefined,
    version: row.version as string | undefined,
    resolvedVersion: row.resolved_version as string | undefined,
    status: row.status === undefined ? undefined : Enrollment_Status[row.status as EnrollmentStatus],
    reason: row.reason as string | undefined,
    parameters: row.parameters as JsonObject | undefined,
    workspaceId: row.workspace_id as string | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
    verifiedAt: at(row.verified_at),
  };
}
