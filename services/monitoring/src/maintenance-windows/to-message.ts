import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { MaintenanceWindow_Operator, MaintenanceWindow_Recurrence, MaintenanceWindow_State } from "@cloudforet/proto/cloudforet/monitoring/v1/maintenance_window_pb";
import type { LabelMatcher, MaintenanceWindowRow, Recurrence } from "../db/schema";
import { windowState } from "./maintenance-windows";

const date = (v: unknown) => (v instanceof Date ? timestampFromDate(v) : undefined);
const matchersOf = (matchers: LabelMatcher[] | undefined) => matchers?.map((m) => ({ name: m.name, value: m.value, operator: MaintenanceWindow_Operator[m.operator] }));

export function toMessage(row: MaintenanceWindowRow, now = Date.now()) {
  return {
    maintenanceWindowId: row.maintenanceWindowId,
    name: row.name,
    matchers: matchersOf(row.matchers),
    startsAt: date(row.startsAt),
    endsAt: date(row.endsAt),
    recurrence: MaintenanceWindow_Recurrence[row.recurrence],
    repeatUntil: date(row.repeatUntil),
    state: MaintenanceWindow_State[windowState(row, now)],
    comment: row.comment,
    createdBy: row.createdBy,
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    createdAt: date(row.createdAt),
  };
}

/** A List result: the query language keys rows by field name, trimmed by `only`. */
export function fromListRow(row: Record<string, unknown>, now = Date.now()) {
  const times = row.starts_at instanceof Date && row.ends_at instanceof Date && typeof row.recurrence === "string";
  return {
    maintenanceWindowId: row.maintenance_window_id as string | undefined,
    name: row.name as string | undefined,
    matchers: matchersOf(row.matchers as LabelMatcher[] | undefined),
    startsAt: date(row.starts_at),
    endsAt: date(row.ends_at),
    recurrence: typeof row.recurrence === "string" ? MaintenanceWindow_Recurrence[row.recurrence as Recurrence] : undefined,
    repeatUntil: date(row.repeat_until),
    state: times
      ? MaintenanceWindow_State[
          windowState({ startsAt: row.starts_at as Date, endsAt: row.ends_at as Date, recurrence: row.recurrence as Recurrence, repeatUntil: (row.repeat_until as Date | null) ?? null }, now)
        ]
      : undefined,
    comment: row.comment as string | undefined,
    createdBy: row.created_by as string | undefined,
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: date(row.created_at),
  };
}
