import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { Notification_NotificationType, Notification_Severity, NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { Drawer } from "../../components/Drawer";
import { ErrorPanel } from "../../components/ErrorPanel";
import { PropList, TagTable } from "../../components/PropList";
import { Loading } from "../../components/States";
import { formatTime } from "../../lib/format";

/** One notification: its message, recipients and every delivery attempt per channel. */
export function NotificationDrawer({ id, onClose }: { id: string; onClose: () => void }) {
  const queryClient = useQueryClient();
  const { data, error, isPending, refetch } = useQuery(NotificationService.method.get, { notificationId: id });
  const markRead = useMutation(NotificationService.method.markRead, { onSuccess: () => queryClient.invalidateQueries() });
  return (
    <Drawer title={data?.title || id} onClose={onClose}>
      {isPending && <Loading />}
      {error && <ErrorPanel error={error} what="Loading the notification" onRetry={() => refetch()} />}
      {data && (
        <>
          <p>{data.message}</p>
          <div className="actions">
            <button type="button" disabled={data.isRead || markRead.isPending} onClick={() => markRead.mutate({ notificationIds: [id] })}>
              Mark as read
            </button>
          </div>
          {markRead.error && <ErrorPanel error={markRead.error} what="Marking as read" />}
          <PropList
            rows={[
              ["ID", data.notificationId],
              ["Severity", Notification_Severity[data.severity]],
              ["Type", Notification_NotificationType[data.notificationType]],
              ["Channels", data.channels.join(", ")],
              ["Recipients", data.recipients.join(", ")],
              ["Workspace", data.workspaceId],
              ["Read", data.isRead ? formatTime(data.readAt) : "no"],
              ["Created", formatTime(data.createdAt)],
            ]}
          />
          <h3>Delivery attempts</h3>
          {data.deliveries.length === 0 ? (
            <p className="muted">No delivery attempted yet.</p>
          ) : (
            <table className="grid" aria-label="Delivery attempts">
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">Status</th>
                  <th scope="col">At</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {data.deliveries.map((d, i) => (
                  <tr key={i}>
                    <td>{d.channel}</td>
                    <td className="num">{d.attempt}</td>
                    <td>{Delivery_Status[d.status]}</td>
                    <td>{formatTime(d.at)}</td>
                    <td>{d.error || "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>Tags</h3>
          <TagTable tags={data.tags} />
        </>
      )}
    </Drawer>
  );
}
