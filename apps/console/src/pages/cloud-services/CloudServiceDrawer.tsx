import { useQuery } from "@connectrpc/connect-query";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { Drawer } from "../../components/Drawer";
import { ErrorPanel } from "../../components/ErrorPanel";
import { PropList, TagTable } from "../../components/PropList";
import { Loading } from "../../components/States";
import { formatTime } from "../../lib/format";

export function CloudServiceDrawer({ id, onClose }: { id: string; onClose: () => void }) {
  const { data, error, isPending, refetch } = useQuery(CloudServiceService.method.get, { cloudServiceId: id });
  return (
    <Drawer title={data?.name || id} onClose={onClose}>
      {isPending && <Loading />}
      {error && <ErrorPanel error={error} what="Loading the resource" onRetry={() => refetch()} />}
      {data && (
        <>
          <PropList
            rows={[
              ["ID", data.cloudServiceId],
              ["Type", `${data.provider} / ${data.cloudServiceGroup} / ${data.cloudServiceType}`],
              ["State", data.state],
              ["Account", data.account],
              ["Workspace", data.workspaceId],
              ["Project", data.projectId],
              ["Collector", data.collectorId],
              ["Last collected", formatTime(data.lastCollectedAt)],
              ["Created", formatTime(data.createdAt)],
              ["Updated", formatTime(data.updatedAt)],
            ]}
          />
          <h3>Tags</h3>
          <TagTable tags={data.tags} />
          <h3>Data</h3>
          <pre className="json" aria-label="Resource data">
            {JSON.stringify(data.data ?? {}, null, 2)}
          </pre>
        </>
      )}
    </Drawer>
  );
}
