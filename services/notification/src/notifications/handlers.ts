import type { ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { tenantScope } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import { workspaceForWrite } from "../access/write-access";
import { requiredId } from "../fields/required-fields";
import type { NotificationSender } from "./notification-sender";
import { validateSend } from "./notifications";
import type { NotificationRepository } from "./repository";
import { fromListRow, sentMessage, toMessage } from "./to-message";

const MAX_MARK_READ = 1000;

export function notificationHandlers(repo: NotificationRepository, sender: NotificationSender): ServiceImpl<typeof NotificationService> {
  return {
    async send(req, ctx) {
      const caller = callerOf(ctx);
      const input = validateSend(req);
      const workspaceId = workspaceForWrite(caller, req.workspaceId);
      const row = await sender.send(input, { domainId: caller.domainId, workspaceId, authorization: ctx.requestHeader.get("authorization") });
      return sentMessage(row);
    },

    async get(req, ctx) {
      const caller = callerOf(ctx);
      const id = requiredId(req.notificationId, "notification_id");
      const found = await repo.get(tenantScope(caller), id);
      if (!found) throw notFound("Notification not found", { notification_id: id });
      return toMessage(found.row, found.deliveries);
    },

    async list(req, ctx) {
      const caller = callerOf(ctx);
      const { results, total_count } = await repo.list(tenantScope(caller), req.query ?? {});
      const ids = results.flatMap((r) => (typeof r.notification_id === "string" ? [r.notification_id] : []));
      const deliveries = await repo.deliveriesOf(ids);
      return { results: results.map((r) => fromListRow(r, deliveries.get(r.notification_id as string))), totalCount: total_count };
    },

    async markRead(req, ctx) {
      const caller = callerOf(ctx);
      if (req.notificationIds.length === 0) throw missingParameter("notification_ids");
      if (req.notificationIds.length > MAX_MARK_READ) throw invalidParameter(`at most ${MAX_MARK_READ} notification_ids`, { parameter: "notification_ids" });
      const ids = [...new Set(req.notificationIds.map((id, i) => requiredId(id, `notification_ids[${i}]`)))];
      const { missing, updated } = await repo.markRead(tenantScope(caller), ids);
      if (missing.length > 0) throw notFound("Notification not found", { notification_id: missing.slice(0, 20).join(",") });
      return { updatedCount: updated };
    },
  };
}
