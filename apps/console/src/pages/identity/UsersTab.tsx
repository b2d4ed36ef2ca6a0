import { useQuery } from "@connectrpc/connect-query";
import { RoleBinding_Role, User_State, UserService, type User } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { DataTable } from "../../components/DataTable";
import { Empty, QueryResult } from "../../components/QueryResult";
import { formatTime } from "../../lib/format";

/** Users with their role bindings (role @ workspace; domain-wide roles have no workspace). */
export function UsersTab() {
  const list = useQuery(UserService.method.list, { query: { page: { limit: 200 } } });
  return (
    <QueryResult query={list} what="Listing users" empty={<Empty title="No users" />}>
      {(rows) => (
        <DataTable<User>
          label="Users"
          rows={rows}
          rowKey={(u) => u.userId}
          columns={[
            { header: "User", cell: (u) => u.userId },
            { header: "Name", cell: (u) => u.name || "—" },
            { header: "Email", cell: (u) => u.email || "—" },
            { header: "State", cell: (u) => User_State[u.state] },
            {
              header: "Role bindings",
              cell: (u) =>
                u.roleBindings.length === 0 ? (
                  <span className="muted">none</span>
                ) : (
                  <ul className="bindings" aria-label={`Role bindings of ${u.userId}`}>
                    {u.roleBindings.map((b) => (
                      <li key={`${b.role}/${b.workspaceId}`}>
                        {RoleBinding_Role[b.role]}
                        {b.workspaceId && <> @ {b.workspaceId}</>}
                      </li>
                    ))}
                  </ul>
                ),
            },
            { header: "Last sign-in", cell: (u) => formatTime(u.lastLoginAt) },
          ]}
        />
      )}
    </QueryResult>
  );
}
