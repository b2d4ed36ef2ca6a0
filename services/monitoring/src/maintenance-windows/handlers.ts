import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { MaintenanceWindow_Operator, MaintenanceWindow_Recurrence, MaintenanceWindowService } from "@cloudforet/proto/cloudforet/monitoring/v1/maintenance_window_pb";
import { tenantScope } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import type { LabelMatcher, Recurrence } from "../db/schema";
import { optionalText, requireRowWrite, requiredId, requiredText } from "../alerts/alert-fields";
import { writeWorkspace } from "../metrics/metrics";
import { validateMatchers, validateRange } from "./maintenance-windows";
import type { MaintenanceWindowRepository } from "./repository";
import { fromListRow, toMessage } from "./to-message";

export interface MaintenanceWindowEvents {
  /** A window of the domain was created, changed or removed: the notifier re-checks what it holds back. */
  changed(domainId: string): Promise<void>;
}

export function maintenanceWindowHandlers(repo: MaintenanceWindowRepository, events: MaintenanceWindowEvents): ServiceImpl<typeof MaintenanceWindowService> {
  const load = async (ctx: HandlerContext, id: string) => {
    const caller = callerOf(ctx);
    const windowId = requiredId(id, "maintenance_window_id");
    const row = await repo.get(tenantScope(caller), windowId);
    if (!row) throw notFound("Maintenance window not found", { maintenance_window_id: windowId });
    return { caller, row };
  };
  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      const name = requiredText(req.name, "name");
      const matchers = validateMatchers(
        req.matchers.map((m, i): LabelMatcher => {
          const operator = MaintenanceWindow_Operator[m.operator] as LabelMatcher["operator"] | undefined;
          if (!operator) throw invalidParameter("operator must be EQ, NE or REGEX", { parameter: `matchers[${i}].operator`, value: m.operator });
          return { name: m.name, value: m.value, operator };
        }),
      );
      const recurrence = MaintenanceWindow_Recurrence[req.recurrence] as Recurrence | undefined;
      if (!recurrence) throw invalidParameter("recurrence must be ONCE, DAILY or WEEKLY", { parameter: "recurrence", value: req.recurrence });
      const startsAt = req.startsAt ? timestampDate(req.startsAt).getTime() : Date.now();
      if (!req.endsAt) throw missingParameter("ends_at");
      const endsAt = timestampDate(req.endsAt).getTime();
      const repeatUntil = req.repeatUntil ? timestampDate(req.repeatUntil).getTime() : undefined;
      validateRange(startsAt, endsAt, recurrence, repeatUntil);
      const comment = optionalText(req.comment, "comment", 2000);
      const workspaceId = writeWorkspace(caller, req.workspaceId);
      const row = await repo.create({
        domainId: caller.domainId,
        workspaceId,
        name,
        matchers,
        startsAt: new Date(startsAt),
        endsAt: new Date(endsAt),
        recurrence,
        repeatUntil: repeatUntil === undefined ? null : new Date(repeatUntil),
        comment,
        createdBy: caller.userId,
      });
      await events.changed(caller.domainId);
      return { maintenanceWindow: toMessage(row) };
    },
    async get(req, ctx) {
      return { maintenanceWindow: toMessage((await load(ctx, req.maintenanceWindowId)).row) };
    },
    async list(req, ctx) {
      const { results, total_count } = await repo.list(tenantScope(callerOf(ctx)), req.query ?? {});
      const now = Date.now();
      return { results: results.map((r) => fromListRow(r, now)), totalCount: total_count };
    },
    async expire(req, ctx) {
      const { caller, row } = await load(ctx, req.maintenanceWindowId);
      requireRowWrite(caller, row.workspaceId);
      const expired = await repo.expire(row);
      await events.changed(caller.domainId);
      return { maintenanceWindow: toMessage(expired) };
    },
    async delete(req, ctx) {
      const { caller, row } = await load(ctx, req.maintenanceWindowId);
      requireRowWrite(caller, row.workspaceId);
      if (!(await repo.delete(row))) throw notFound("Maintenance window not found", { maintenance_window_id: row.maintenanceWindowId });
      await events.changed(caller.domainId);
      return {};
    },
  };
}
