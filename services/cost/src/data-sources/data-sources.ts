import { invalidParameter, missingParameter } from "@cloudforet/errors";
import { isStorableText } from "@cloudforet/query";

const dataSourceIdPattern = /^[a-z0-9-]{1,64}$/;

/** Client-chosen ids are 1-64 of [a-z0-9-] ("ds-cost-nutanix-001"). */
export function validateDataSourceId(id: string): string {
  if (!dataSourceIdPattern.test(id)) {
    throw invalidParameter("data_source_id must be 1-64 characters of a-z, 0-9 and -", { parameter: "data_source_id", value: id });
  }
  return id;
}

/** A required short label (name, provider). */
export function requiredLabel(value: string, parameter: string, maxLength = 255): string {
  const trimmed = value.trim();
  if (!trimmed) throw missingParameter(parameter);
  if (trimmed.length > maxLength) throw invalidParameter(`${parameter} must be at most ${maxLength} characters`, { parameter });
  if (!isStorableText(trimmed)) throw invalidParameter(`${parameter} must be valid text without NUL characters`, { parameter });
  return trimmed;
}

const workspaceIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** A workspace id, or "" for a domain-wide source. */
export function validateWorkspaceId(workspaceId: string): string {
  if (workspaceId && !workspaceIdPattern.test(workspaceId)) {
    throw invalidParameter("workspace_id is not a workspace id", { parameter: "workspace_id", value: workspaceId });
  }
  return workspaceId;
}
