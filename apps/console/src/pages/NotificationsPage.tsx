import { keepPreviousData } from "@tanstack/react-query";
import { useQuery } from "@connectrpc/connect-query";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { Notification_Severity, NotificationService, type Notification } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { ErrorPanel } from "../components/ErrorPanel";
import { Pager } from "../components/Pager";
import { Empty, Loading } from "../components/States";
import { eq } from "../lib/filters";
import { formatTime } from "../lib/format";
import { useSearchSet } from "../lib/use-search-set";
import { NotificationDrawer } from "./notifications/NotificationDrawer";

const SEVERITIES = ["INFO", "WARNING", "ERROR", "CRITICAL"] as const;
const SIZE = 25;

/** NotificationService.List, newest first, by severity and read state; a drawer with the delivery attempts. */
export default function NotificationsPage() {
  const [params, set] = useSearchSet();
  const severity = params.get("severity") ?? "";
  const unread = params.get("unread") === "1";
  const page = Math.max(1, Number(params.get("page") ?? 1) || 1);
  const open = params.get("open");
  const filter = [...(severity ? [eq("severity", severity)] : []), ...(unread ? [eq("is_read", false)] : [])];
  const list = useQuery(
    NotificationService.method.list,
    { query: { filter, sort: { key: "created_at", desc: true }, page: { start: (page - 1) * SIZE, limit: SIZE } } },
    { placeholderData: keepPreviousData, refetchInterval: 10_000 },
  );
  const rows = list.data?.results ?? [];

  return (
    <div className="page">
      <header className="page-head">
        <h1>Notifications</h1>
      </header>
      <div className="filter-form">
        <label>
          Severity
          <select value={severity} onChange={(e) => set({ severity: e.target.value, page: "" })}>
            <option value="">any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={unread} onChange={(e) => set({ unread: e.target.checked ? "1" : "", page: "" })} /> Unread only
        </label>
      </div>
      {list.isPending && <Loading />}
      {list.error && <ErrorPanel error={list.error} what="Listing notifications" onRetry={() => list.refetch()} />}
      {list.data && rows.length === 0 && <Empty title="No notifications">Notifications appear here when a job finishes or NotificationService.Send is called.</Empty>}
      {rows.length > 0 && (
        <table className="grid" aria-label="Notifications">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Severity</th>
              <th scope="col">Deliveries</th>
              <th scope="col">Read</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((n) => (
              <tr key={n.notificationId} aria-selected={n.notificationId === open}>
                <td>
                  <button type="button" className="link" onClick={() => set({ open: n.notificationId })}>
                    {n.title || n.notificationId}
                  </button>
                </td>
                <td>{Notification_Severity[n.severity]}</td>
                <td>{deliverySummary(n)}</td>
                <td>{n.isRead ? "yes" : "no"}</td>
                <td>{formatTime(n.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && <Pager page={page} size={SIZE} total={list.data.totalCount} onPage={(n) => set({ page: String(n) })} />}
      {open && <NotificationDrawer id={open} onClose={() => set({ open: "" })} />}
    </div>
  );
}

/** "2 succeeded · 1 failed" from each channel's latest attempt. */
export function deliverySummary(n: Pick<Notification, "deliveries">): string {
  if (n.deliveries.length === 0) return "—";
  const latest = new Map<string, Delivery_Status>();
  for (const d of n.deliveries) latest.set(d.channel, d.status);
  const counts = new Map<string, number>();
  for (const s of latest.values()) counts.set(Delivery_Status[s].toLowerCase(), (counts.get(Delivery_Status[s].toLowerCase()) ?? 0) + 1);
  return [...counts].map(([s, c]) => `${c} ${s}`).join(" · ");
}
