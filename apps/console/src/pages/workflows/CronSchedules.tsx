import { useQuery } from "@connectrpc/connect-query";
import { CronService, type CronSchedule } from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import { DataTable } from "../../components/DataTable";
import { Empty, QueryResult } from "../../components/QueryResult";
import { formatTime } from "../../lib/format";

/** The tenant's cron schedules: which sequence fires when, and when it last and next fires. */
export function CronSchedules({ tenantId }: { tenantId: string }) {
  const list = useQuery(CronService.method.list, { tenantId, limit: 200 }, { refetchInterval: 10_000 });
  return (
    <QueryResult query={list} what="Listing cron schedules" empty={<Empty title="No cron schedules">Create one with CronService.Create to run a sequence on a schedule.</Empty>}>
      {(rows) => (
        <DataTable<CronSchedule>
          label="Cron schedules"
          rows={rows}
          rowKey={(c) => c.id}
          columns={[
            { header: "Schedule", cell: (c) => <code>{c.cronExpr}</code> },
            { header: "Timezone", cell: (c) => c.timezone || "UTC" },
            { header: "Sequence", cell: (c) => c.sequenceId },
            { header: "Namespace", cell: (c) => c.namespace },
            { header: "Enabled", cell: (c) => (c.enabled ? "yes" : "no") },
            { header: "Last fired", cell: (c) => formatTime(c.lastTriggeredAt) },
            { header: "Next fire", cell: (c) => (c.enabled ? formatTime(c.nextFireAt) : "—") },
          ]}
        />
      )}
    </QueryResult>
  );
}
