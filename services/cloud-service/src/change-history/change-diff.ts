/**
 * A create's diff computed in the service, with exactly the rules of the migration's
 * `cloud_service.history_diff`: top-level fields, one level into data, tags and reference as dotted
 * keys, "" and null read as absent. Used for a collected create that collector rules shaped, whose
 * keys are split between the collection and the rules when written; other collected writes store
 * the compact form (history-sql.ts) and `change_entries` reads it by the same rules.
 */

export interface ChangeEntry {
  key: string;
  before: unknown;
  after: unknown;
}

/** The tracked columns of a new resource row, as a create's diff needs them. */
export interface CreatedValues {
  name: string;
  state: string;
  account?: string;
  provider: string;
  cloudServiceType: string;
  cloudServiceGroup?: string;
  projectId?: string;
  workspaceId?: string;
  data?: Record<string, unknown>;
  tags?: Record<string, string>;
  reference?: object;
}

const present = (value: unknown) => value !== undefined && value !== null && value !== "";

/**
 * A create's diff (every key it sets, before null), computed here from the values being inserted
 * rather than in SQL: a batch of new resources then costs the database only the history rows. The
 * same keys and rules as `history_diff(null, snapshotOf(row))` ("" and null are absent).
 */
export function createdDiff(row: CreatedValues): ChangeEntry[] {
  const diff: ChangeEntry[] = [];
  const top: [string, unknown][] = [
    ["name", row.name],
    ["state", row.state],
    ["account", row.account],
    ["provider", row.provider],
    ["cloud_service_type", row.cloudServiceType],
    ["cloud_service_group", row.cloudServiceGroup],
    ["project_id", row.projectId],
    ["workspace_id", row.workspaceId],
  ];
  for (const [key, value] of top) if (present(value)) diff.push({ key, before: null, after: value });
  for (const [field, map] of [["data", row.data], ["tags", row.tags], ["reference", row.reference]] as const) {
    for (const [key, value] of Object.entries((map ?? {}) as Record<string, unknown>)) if (present(value)) diff.push({ key: `${field}.${key}`, before: null, after: value });
  }
  return diff.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
