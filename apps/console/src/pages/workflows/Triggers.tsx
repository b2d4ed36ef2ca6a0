import { useQuery } from "@connectrpc/connect-query";
import { Trigger_TriggerType, TriggerService, type Trigger } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { DataTable } from "../../components/DataTable";
import { Empty, QueryResult } from "../../components/QueryResult";
import { formatTime } from "../../lib/format";

/** The tenant's triggers: the webhook or event slug that starts a sequence. */
export function Triggers({ tenantId }: { tenantId: string }) {
  const list = useQuery(TriggerService.method.list, { tenantId, limit: 200 }, { refetchInterval: 10_000 });
  return (
    <QueryResult query={list} what="Listing triggers" empty={<Empty title="No triggers">Create one with TriggerService.Create to start a sequence from a webhook or an event.</Empty>}>
      {(rows) => (
        <DataTable<Trigger>
          label="Triggers"
          rows={rows}
          rowKey={(t) => t.slug}
          columns={[
            { header: "Slug", cell: (t) => <code>{t.slug}</code> },
            { header: "Type", cell: (t) => Trigger_TriggerType[t.triggerType] },
            { header: "Sequence", cell: (t) => t.sequenceName || t.sequenceId },
            { header: "Namespace", cell: (t) => t.namespace },
            { header: "Enabled", cell: (t) => (t.enabled ? "yes" : "no") },
            { header: "Updated", cell: (t) => formatTime(t.updatedAt) },
          ]}
        />
      )}
    </QueryResult>
  );
}
