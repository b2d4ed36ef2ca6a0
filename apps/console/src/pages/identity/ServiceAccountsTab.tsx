import { useQuery } from "@connectrpc/connect-query";
import { ServiceAccountService, type ServiceAccount } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { DataTable } from "../../components/DataTable";
import { Empty, QueryResult } from "../../components/QueryResult";
import { formatTime } from "../../lib/format";

export function ServiceAccountsTab() {
  const list = useQuery(ServiceAccountService.method.list, { query: { page: { limit: 200 } } });
  return (
    <QueryResult query={list} what="Listing service accounts" empty={<Empty title="No service accounts">A service account holds a provider account's settings; its credentials live in a secret.</Empty>}>
      {(rows) => (
        <DataTable<ServiceAccount>
          label="Service accounts"
          rows={rows}
          rowKey={(a) => a.serviceAccountId}
          columns={[
            { header: "ID", cell: (a) => a.serviceAccountId },
            { header: "Name", cell: (a) => a.name },
            { header: "Provider", cell: (a) => a.provider },
            { header: "Workspace", cell: (a) => a.workspaceId || "—" },
            { header: "Project", cell: (a) => a.projectId || "—" },
            { header: "Secret", cell: (a) => a.secretId || "—" },
            { header: "Created", cell: (a) => formatTime(a.createdAt) },
          ]}
        />
      )}
    </QueryResult>
  );
}
