import { useQuery } from "@connectrpc/connect-query";
import { WorkspaceService, Workspace_State, type Workspace } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { DataTable } from "../../components/DataTable";
import { Empty, QueryResult } from "../../components/QueryResult";
import { formatTime } from "../../lib/format";

export function WorkspacesTab() {
  const list = useQuery(WorkspaceService.method.list, { query: { page: { limit: 200 } } });
  return (
    <QueryResult query={list} what="Listing workspaces" empty={<Empty title="No workspaces">Create one with WorkspaceService.Create or cfctl.</Empty>}>
      {(rows) => (
        <DataTable<Workspace>
          label="Workspaces"
          rows={rows}
          rowKey={(w) => w.workspaceId}
          columns={[
            { header: "ID", cell: (w) => w.workspaceId },
            { header: "Name", cell: (w) => w.name },
            { header: "State", cell: (w) => Workspace_State[w.state] },
            { header: "Tags", cell: (w) => Object.entries(w.tags).map(([k, v]) => `${k}=${v}`).join(", ") || "—" },
            { header: "Created", cell: (w) => formatTime(w.createdAt) },
          ]}
        />
      )}
    </QueryResult>
  );
}
