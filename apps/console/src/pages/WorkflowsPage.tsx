import { keepPreviousData, skipToken } from "@tanstack/react-query";
import { useQuery } from "@connectrpc/connect-query";
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { InstanceService, TaskInstance_State } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { useSession } from "../auth/session";
import { ErrorPanel } from "../components/ErrorPanel";
import { Pager } from "../components/Pager";
import { Tabs } from "../components/Tabs";
import { Empty, Loading } from "../components/States";
import { formatTime } from "../lib/format";
import { CronSchedules } from "./workflows/CronSchedules";
import { InstanceDrawer } from "./workflows/InstanceDrawer";
import { RunSequence } from "./workflows/RunSequence";
import { Triggers } from "./workflows/Triggers";

const VIEWS = [
  ["", "Instances"],
  ["dlq", "Dead-letter queue"],
  ["cron", "Cron schedules"],
  ["triggers", "Triggers"],
] as const;
const STATES = ["SCHEDULED", "RUNNING", "WAITING", "PAUSED", "COMPLETED", "FAILED", "CANCELLED"] as const;
const SIZE = 25;

/** Workflow instances by state, the dead-letter queue (failed instances) with bulk retry, cron schedules and triggers. */
export default function WorkflowsPage() {
  const { session } = useSession();
  const [params, setParams] = useSearchParams();
  const view = VIEWS.find(([v]) => v === params.get("view"))?.[0] ?? "";
  const dlq = view === "dlq";
  const instancesView = view === "" || dlq;
  const tenantId = session?.domainId ?? "";
  const states = params.getAll("state").filter((s): s is (typeof STATES)[number] => (STATES as readonly string[]).includes(s));
  const page = Math.max(1, Number(params.get("page") ?? 1) || 1);
  const open = params.get("open");
  const set = (change: (p: URLSearchParams) => void) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      change(next);
      return next;
    });
  const request = { tenantId, states: states.map((s) => TaskInstance_State[s]), offset: (page - 1) * SIZE, limit: SIZE };
  const options = { placeholderData: keepPreviousData, refetchInterval: 5_000 };
  const all = useQuery(InstanceService.method.list, view === "" ? request : skipToken, options);
  const dead = useQuery(InstanceService.method.listDlq, dlq ? request : skipToken, options);
  const list = dlq ? dead : all;
  // Kept here, not in the table: a bulk retry empties the queue and the table goes with it.
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  return (
    <div className="page">
      <header className="page-head">
        <h1>Workflow instances</h1>
      </header>
      <RunSequence tenantId={tenantId} onStarted={(id) => set((p) => p.set("open", id))} />
      <Tabs label="View" tabs={VIEWS} value={view} onChange={(v) => set((p) => (v ? p.set("view", v) : p.delete("view"), p.delete("page")))} />
      {view === "cron" && <CronSchedules tenantId={tenantId} />}
      {view === "triggers" && <Triggers tenantId={tenantId} />}
      {instancesView && (
        <>
          {!dlq && (
            <fieldset className="state-filter">
              <legend>States</legend>
              {STATES.map((s) => (
                <label key={s}>
                  <input
                    type="checkbox"
                    checked={states.includes(s)}
                    onChange={(e) =>
                      set((p) => {
                        const next = e.target.checked ? [...states, s] : states.filter((x) => x !== s);
                        p.delete("state");
                        next.forEach((x) => p.append("state", x));
                        p.delete("page");
                      })
                    }
                  />
                  {s.toLowerCase()}
                </label>
              ))}
            </fieldset>
          )}
          {dlq && outcome && <span role="status">{outcome.ok} retried{outcome.failed.length ? `, ${outcome.failed.length} failed` : ""}.</span>}
          {dlq && outcome && outcome.failed.length > 0 && <ErrorPanel error={outcome.failed[0]} what="Bulk retry" />}
          {list.isPending && <Loading />}
          {list.error && <ErrorPanel error={list.error} what={dlq ? "Listing the dead-letter queue" : "Listing instances"} onRetry={() => list.refetch()} />}
          {list.data?.results.length === 0 && <Empty title={dlq ? "The dead-letter queue is empty" : "No instances"}>{dlq ? "No failed instance is waiting for a retry." : "Run a sequence to create one."}</Empty>}
          {!!list.data?.results.length && (
            <InstanceTable
              key={String(dlq)}
              rows={list.data.results}
              selectable={dlq}
              onOpen={(id) => set((p) => p.set("open", id))}
              openId={open}
              onOutcome={setOutcome}
            />
          )}
          {list.data && <Pager page={page} size={SIZE} total={list.data.totalCount} onPage={(n) => set((p) => p.set("page", String(n)))} />}
        </>
      )}
      {open && <InstanceDrawer id={open} onClose={() => set((p) => p.delete("open"))} />}
    </div>
  );
}

type Outcome = { ok: number; failed: unknown[] };

type Row = { id: string; sequenceId: string; namespace: string; state: TaskInstance_State; updatedAt?: Parameters<typeof formatTime>[0] };

function InstanceTable({ rows, selectable, onOpen, openId, onOutcome }: { rows: Row[]; selectable: boolean; onOpen: (id: string) => void; openId: string | null; onOutcome: (o: Outcome) => void }) {
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);

  async function retrySelected() {
    setBusy(true);
    const client = createClient(InstanceService, transport);
    const results = await Promise.allSettled([...selected].map((id) => client.retry({ id })));
    onOutcome({ ok: results.filter((r) => r.status === "fulfilled").length, failed: results.flatMap((r) => (r.status === "rejected" ? [r.reason] : [])) });
    setSelected(new Set());
    setBusy(false);
    void queryClient.invalidateQueries();
  }

  return (
    <>
      {selectable && (
        <div className="actions">
          <button type="button" className="primary" disabled={selected.size === 0 || busy} onClick={retrySelected}>
            Retry selected ({selected.size})
          </button>
        </div>
      )}
      <table className="grid">
        <thead>
          <tr>
            {selectable && (
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={selected.size === rows.length && rows.length > 0}
                  onChange={(e) => setSelected(new Set(e.target.checked ? rows.map((r) => r.id) : []))}
                />
              </th>
            )}
            <th scope="col">Instance</th>
            <th scope="col">Sequence</th>
            <th scope="col">Namespace</th>
            <th scope="col">State</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} aria-selected={r.id === openId}>
              {selectable && (
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${r.id}`}
                    checked={selected.has(r.id)}
                    onChange={(e) =>
                      setSelected((prev) => {
                        const next = new Set(prev);
                        if (e.target.checked) next.add(r.id);
                        else next.delete(r.id);
                        return next;
                      })
                    }
                  />
                </td>
              )}
              <td>
                <button type="button" className="link" onClick={() => onOpen(r.id)}>
                  {r.id}
                </button>
              </td>
              <td>{r.sequenceId}</td>
              <td>{r.namespace}</td>
              <td>{TaskInstance_State[r.state]}</td>
              <td>{formatTime(r.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
