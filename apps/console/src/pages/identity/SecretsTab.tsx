import { useQuery } from "@connectrpc/connect-query";
import { SecretService, type Secret } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { DataTable } from "../../components/DataTable";
import { Empty, QueryResult } from "../../components/QueryResult";
import { formatTime } from "../../lib/format";

/** Secrets' metadata only: the console never calls SecretService.GetData, so values never reach the browser. */
export function SecretsTab() {
  const list = useQuery(SecretService.method.list, { query: { page: { limit: 200 } } });
  return (
    <>
      <p className="muted">Secret values are never shown here; only plugins and services read them.</p>
      <QueryResult query={list} what="Listing secrets" empty={<Empty title="No secrets" />}>
        {(rows) => (
          <DataTable<Secret>
            label="Secrets"
            rows={rows}
            rowKey={(s) => s.secretId}
            columns={[
              { header: "ID", cell: (s) => s.secretId },
              { header: "Name", cell: (s) => s.name },
              { header: "Workspace", cell: (s) => s.workspaceId || "—" },
              { header: "Service account", cell: (s) => s.serviceAccountId || "—" },
              { header: "Expires", cell: (s) => formatTime(s.expiresAt) },
              { header: "Updated", cell: (s) => formatTime(s.updatedAt) },
            ]}
          />
        )}
      </QueryResult>
    </>
  );
}
