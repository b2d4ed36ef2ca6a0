import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { InstanceService } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import type { JsonObject } from "@bufbuild/protobuf";
import { useState, type FormEvent } from "react";
import { ErrorPanel } from "../../components/ErrorPanel";

/** Runs a sequence by namespace and name (SequenceService.GetByName, then InstanceService.Create). */
export function RunSequence({ tenantId, onStarted }: { tenantId: string; onStarted: (instanceId: string) => void }) {
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [namespace, setNamespace] = useState("default");
  const [name, setName] = useState("");
  const [context, setContext] = useState("{}");
  const [error, setError] = useState<unknown>(null);
  const [invalid, setInvalid] = useState("");
  const [busy, setBusy] = useState(false);

  async function run(e: FormEvent) {
    e.preventDefault();
    let data: JsonObject;
    try {
      const parsed: unknown = JSON.parse(context || "{}");
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error();
      data = parsed as JsonObject;
    } catch {
      setInvalid("The context must be a JSON object, e.g. {\"data\": {\"ok\": true}}.");
      return;
    }
    setInvalid("");
    setError(null);
    setBusy(true);
    try {
      const sequence = await createClient(SequenceService, transport).getByName({ tenantId, namespace, name });
      const instance = await createClient(InstanceService, transport).create({ sequenceId: sequence.id, tenantId, namespace, context: data });
      void queryClient.invalidateQueries();
      onStarted(instance.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <details className="card">
      <summary>Run a sequence</summary>
      <form onSubmit={run} className="filter-form" aria-label="Run a sequence">
        <label>
          Namespace
          <input value={namespace} onChange={(e) => setNamespace(e.target.value)} required />
        </label>
        <label>
          Sequence name
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Context (JSON)
          <input value={context} onChange={(e) => setContext(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          Run
        </button>
      </form>
      {invalid && <p role="alert">{invalid}</p>}
      {error !== null && <ErrorPanel error={error} what="Running the sequence" />}
    </details>
  );
}
