import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { ApiKey_State, ApiKeyService, type ApiKey } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { useState, type FormEvent } from "react";
import { useSession } from "../../auth/session";
import { DataTable } from "../../components/DataTable";
import { ErrorPanel } from "../../components/ErrorPanel";
import { Empty, QueryResult } from "../../components/QueryResult";
import { formatTime } from "../../lib/format";

/** API keys: create (the key is shown once, then only its prefix), list, revoke. */
export function ApiKeysTab() {
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries();
  const list = useQuery(ApiKeyService.method.list, { query: { sort: { key: "created_at", desc: true }, page: { limit: 200 } } });
  const revoke = useMutation(ApiKeyService.method.revoke, { onSuccess: refresh });
  return (
    <>
      <CreateApiKey onCreated={refresh} />
      {revoke.error && <ErrorPanel error={revoke.error} what="Revoking the key" />}
      <QueryResult query={list} what="Listing API keys" empty={<Empty title="No API keys">Create one above for cfctl, the SDK or CI.</Empty>}>
        {(rows) => (
          <DataTable<ApiKey>
            label="API keys"
            rows={rows}
            rowKey={(k) => k.apiKeyId}
            columns={[
              { header: "Name", cell: (k) => k.name },
              { header: "Key", cell: (k) => <code>{k.keyPrefix}…</code> },
              { header: "User", cell: (k) => k.userId },
              { header: "State", cell: (k) => ApiKey_State[k.state] },
              { header: "Expires", cell: (k) => formatTime(k.expiresAt) },
              { header: "Last used", cell: (k) => formatTime(k.lastUsedAt) },
              {
                header: "Actions",
                cell: (k) => (
                  <button type="button" aria-label={`Revoke ${k.name}`} disabled={k.state === ApiKey_State.REVOKED || revoke.isPending} onClick={() => revoke.mutate({ apiKeyId: k.apiKeyId })}>
                    Revoke
                  </button>
                ),
              },
            ]}
          />
        )}
      </QueryResult>
    </>
  );
}

function CreateApiKey({ onCreated }: { onCreated: () => void }) {
  const { session } = useSession();
  const [name, setName] = useState("");
  // gcTime 0: the created key is dropped from the mutation cache as soon as it is dismissed.
  const create = useMutation(ApiKeyService.method.create, { gcTime: 0, onSuccess: onCreated });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ name: name.trim(), userId: session?.userId ?? "" });
    setName("");
  };
  if (create.data) {
    return (
      <section className="card once" aria-label="New API key">
        <strong>Copy the key now: it is shown this once and never again.</strong>
        <p>
          <code data-testid="new-api-key">{create.data.apiKey}</code>{" "}
          <button type="button" onClick={() => void navigator.clipboard?.writeText(create.data!.apiKey)}>
            Copy
          </button>
        </p>
        <button type="button" className="primary" onClick={() => create.reset()}>
          I have stored it
        </button>
      </section>
    );
  }
  return (
    <>
      <form onSubmit={submit} className="filter-form">
        <label>
          Key name
          <input value={name} onChange={(e) => setName(e.target.value)} required placeholder="ci-deploy" />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create API key
        </button>
      </form>
      {create.error && <ErrorPanel error={create.error} what="Creating the API key" />}
    </>
  );
}
