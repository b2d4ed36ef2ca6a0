import { costSubjects, type EventSubscription } from "@cloudforet/events";
import { consumeNotices, type NoticeConsumerDeps } from "../notifications/notice-consumer";
import { MAX_MESSAGE, MAX_TITLE, type SendInput } from "../notifications/notifications";

export const BUDGET_NOTICE_SUBJECT = costSubjects.budgetThresholdReached;
export const BUDGET_NOTICE_CONSUMER = "notification-budget-threshold";

/** cost's `budget.threshold_reached` data (packages/events subjects.ts): amounts as decimal text. */
export interface BudgetNotice {
  budget_id: string;
  name: string;
  workspace_id: string;
  period: string;
  threshold: string;
  severity: "WARNING" | "CRITICAL";
  currency: string;
  usage: string;
  limit: string;
  usage_percent: string;
  forecast: string;
}

const fields = ["budget_id", "name", "workspace_id", "period", "threshold", "severity", "currency", "usage", "limit", "usage_percent", "forecast"] as const;

/** The event's data when every field is a short string and the severity is known; undefined otherwise. */
export function parseBudgetNotice(data: unknown): BudgetNotice | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const record = data as Record<string, unknown>;
  if (!fields.every((f) => typeof record[f] === "string" && (record[f] as string).length <= 512)) return undefined;
  if (!record.budget_id || (record.severity !== "WARNING" && record.severity !== "CRITICAL")) return undefined;
  return Object.fromEntries(fields.map((f) => [f, record[f]])) as unknown as BudgetNotice;
}

/** "80%" for "PERCENT:80", "USD 1000" for "ACTUAL_COST:1000". */
function thresholdText(notice: BudgetNotice): string {
  const [unit, value] = notice.threshold.split(":");
  return unit === "PERCENT" ? `${value}%` : `${notice.currency} ${value}`;
}

/** "Budget WARNING: Team A reached PERCENT:80 in 2026-12" and the amounts, tagged with the budget's ids. */
export function budgetNotification(notice: BudgetNotice): SendInput {
  return {
    title: `Budget ${notice.severity}: ${notice.name} reached ${thresholdText(notice)} in ${notice.period}`.slice(0, MAX_TITLE),
    message: `${notice.currency} ${notice.usage} spent of ${notice.limit} (${notice.usage_percent}%) in ${notice.period}; forecast ${notice.currency} ${notice.forecast} by the period's end.`.slice(0, MAX_MESSAGE),
    severity: notice.severity,
    notificationType: "SYSTEM",
    tags: { budget_id: notice.budget_id, period: notice.period, threshold: notice.threshold },
    channels: [],
    recipients: [],
  };
}

/** Cost's budget notices: every channel of the budget's workspace and the domain's, or all of the domain's for a domain-wide budget. */
export function consumeBudgetNotices(deps: NoticeConsumerDeps): Promise<EventSubscription> {
  return consumeNotices(deps, {
    durable: BUDGET_NOTICE_CONSUMER,
    subject: BUDGET_NOTICE_SUBJECT,
    parse: parseBudgetNotice,
    domainOf: (event) => event.domainId,
    toSend: (notice) => ({ input: budgetNotification(notice), workspaceId: notice.workspace_id, channelScope: notice.workspace_id ? undefined : "all" }),
    logFields: (notice) => ({ budget_id: notice.budget_id, period: notice.period, threshold: notice.threshold }),
    malformed: "dropping a budget notice without a budget, severity or domain",
    queued: "budget notice queued for delivery",
  });
}
