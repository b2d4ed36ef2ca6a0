import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { InstanceService, TaskInstance_Priority, TaskInstance_State } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { useState, type FormEvent } from "react";
import { Drawer } from "../../components/Drawer";
import { ErrorPanel } from "../../components/ErrorPanel";
import { PropList } from "../../components/PropList";
import { Loading } from "../../components/States";
import { formatTime } from "../../lib/format";

const FINAL = new Set([TaskInstance_State.COMPLETED, TaskInstance_State.FAILED, TaskInstance_State.CANCELLED]);

/** One workflow instance: state, context, each block's outputs; retry, cancel, send a signal. */
export function InstanceDrawer({ id, onClose }: { id: string; onClose: () => void }) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries();
  // Followed every 2 s until the instance reaches a final state.
  const live = { refetchInterval: (q: { state: { data?: { state: TaskInstance_State } } }) => (q.state.data && FINAL.has(q.state.data.state) ? false : 2_000) };
  const instance = useQuery(InstanceService.method.get, { id }, live);
  const outputs = useQuery(InstanceService.method.getOutputs, { id }, { refetchInterval: instance.data && FINAL.has(instance.data.state) ? false : 2_000 });
  const retry = useMutation(InstanceService.method.retry, { onSuccess: refresh });
  const cancel = useMutation(InstanceService.method.updateState, { onSuccess: refresh });
  const signal = useMutation(InstanceService.method.sendSignal, { onSuccess: refresh });
  const [signalType, setSignalType] = useState("");
  const [payload, setPayload] = useState("{}");
  const [payloadError, setPayloadError] = useState("");
  const data = instance.data;

  function send(e: FormEvent) {
    e.preventDefault();
    let json: unknown;
    try {
      json = JSON.parse(payload || "null");
    } catch {
      setPayloadError("The payload is not valid JSON.");
      return;
    }
    setPayloadError("");
    signal.mutate({ id, signalType, payload: fromJson(ValueSchema, json as never) });
  }

  return (
    <Drawer title={`Instance ${id}`} onClose={onClose}>
      {instance.isPending && <Loading />}
      {instance.error && <ErrorPanel error={instance.error} what="Loading the instance" onRetry={() => instance.refetch()} />}
      {data && (
        <>
          <p>
            <span className="status" data-testid="instance-state">
              {TaskInstance_State[data.state]}
            </span>
          </p>
          <div className="actions">
            <button type="button" disabled={data.state !== TaskInstance_State.FAILED || retry.isPending} onClick={() => retry.mutate({ id })}>
              Retry
            </button>
            <button type="button" disabled={FINAL.has(data.state) || cancel.isPending} onClick={() => cancel.mutate({ id, state: TaskInstance_State.CANCELLED })}>
              Cancel
            </button>
          </div>
          {retry.error && <ErrorPanel error={retry.error} what="Retry" />}
          {cancel.error && <ErrorPanel error={cancel.error} what="Cancel" />}
          <PropList
            rows={[
              ["Sequence", data.sequenceId],
              ["Namespace", data.namespace],
              ["Priority", TaskInstance_Priority[data.priority]],
              ["Next fire", formatTime(data.nextFireAt)],
              ["Created", formatTime(data.createdAt)],
              ["Updated", formatTime(data.updatedAt)],
            ]}
          />
          <h3>Context</h3>
          <pre className="json">{JSON.stringify(data.context ?? {}, null, 2)}</pre>
          <h3>Block outputs</h3>
          {outputs.error && <ErrorPanel error={outputs.error} what="Loading outputs" />}
          {outputs.data?.outputs.length === 0 && <p className="muted">No block has produced output yet.</p>}
          <ul className="outputs" aria-label="Block outputs">
            {outputs.data?.outputs.map((o) => (
              <li key={o.id}>
                <strong>{o.blockId}</strong> <span className="muted">attempt {o.attempt} · {formatTime(o.createdAt)}</span>
                <pre className="json">{JSON.stringify(o.output ?? {}, null, 2)}</pre>
              </li>
            ))}
          </ul>
          <h3>Send a signal</h3>
          <form onSubmit={send} className="filter-form">
            <label>
              Signal type
              <input value={signalType} onChange={(e) => setSignalType(e.target.value)} required placeholder="pause, resume, cancel, or custom" />
            </label>
            <label>
              Payload (JSON)
              <input value={payload} onChange={(e) => setPayload(e.target.value)} />
            </label>
            <button type="submit" disabled={signal.isPending}>
              Send
            </button>
          </form>
          {payloadError && <p role="alert">{payloadError}</p>}
          {signal.error && <ErrorPanel error={signal.error} what="Sending the signal" />}
          {signal.isSuccess && <p role="status">Signal sent.</p>}
        </>
      )}
    </Drawer>
  );
}
