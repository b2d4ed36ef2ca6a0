import { keepPreviousData } from "@tanstack/react-query";
import { useQuery } from "@connectrpc/connect-query";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { useState, type FormEvent } from "react";
import { ErrorPanel } from "../components/ErrorPanel";
import { FilterBuilder } from "../components/FilterBuilder";
import { Pager } from "../components/Pager";
import { SortHeader } from "../components/SortHeader";
import { Empty, Loading } from "../components/States";
import { listQuery } from "../lib/url-query";
import { useListParams } from "../lib/use-list-params";
import { CloudServiceDrawer } from "./cloud-services/CloudServiceDrawer";
import { COLUMNS, DEFAULT_COLUMNS, FILTER_KEYS } from "./cloud-services/columns";
import { StatCard } from "./cloud-services/StatCard";

const DEFAULTS = { sort: "name", size: 25 };

export function CloudServicesPage() {
  const list = useListParams(DEFAULTS);
  const { state, params } = list;
  const shown = params.get("cols")?.split(",").filter(Boolean) ?? DEFAULT_COLUMNS;
  const columns = COLUMNS.filter((c) => shown.includes(c.id));
  const openId = params.get("open");
  const { data, error, isPending, isFetching, refetch } = useQuery(
    CloudServiceService.method.list,
    { query: listQuery(state) },
    { placeholderData: keepPreviousData },
  );

  return (
    <div className="page">
      <header className="page-head">
        <h1>Cloud services</h1>
        {isFetching && !isPending && <span className="muted">Refreshing…</span>}
      </header>
      <KeywordSearch value={state.keyword} onSearch={list.setKeyword} />
      <FilterBuilder filters={state.filters} keys={FILTER_KEYS} onChange={list.setFilters} />
      <details className="columns">
        <summary>Columns</summary>
        <fieldset>
          <legend>Shown columns</legend>
          {COLUMNS.map((c) => (
            <label key={c.id}>
              <input
                type="checkbox"
                checked={shown.includes(c.id)}
                onChange={(e) => list.setParam("cols", (e.target.checked ? [...shown, c.id] : shown.filter((id) => id !== c.id)).join(","))}
              />
              {c.label}
            </label>
          ))}
        </fieldset>
      </details>
      <div className="with-side">
        <section aria-label="Resources">
          {isPending && <Loading label="Loading resources…" />}
          {error && <ErrorPanel error={error} what="Listing cloud services" onRetry={() => refetch()} />}
          {data && data.results.length === 0 && (
            <Empty title="No resources match">
              {state.filters.length || state.keyword ? "Remove a filter or change the search." : "Run a collector (Collectors & jobs) to fill the inventory."}
            </Empty>
          )}
          {data && data.results.length > 0 && (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    {columns.map((c) => (
                      <SortHeader key={c.id} label={c.label} field={c.sortKey} sortKey={state.sortKey} desc={state.sortDesc} onSort={list.setSort} />
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {data.results.map((cs) => (
                    <tr key={cs.cloudServiceId} aria-selected={cs.cloudServiceId === openId}>
                      {columns.map((c, i) => (
                        <td key={c.id}>
                          {i === 0 ? (
                            <button type="button" className="link" onClick={() => list.setParam("open", cs.cloudServiceId)}>
                              {c.value(cs) || cs.cloudServiceId}
                            </button>
                          ) : (
                            c.value(cs)
                          )}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager page={state.page} size={state.size} total={data.totalCount} onPage={list.setPage} />
            </>
          )}
        </section>
        <StatCard filters={state.filters} groupBy={params.get("group") ?? "cloud_service_type"} onGroupBy={(g) => list.setParam("group", g)} />
      </div>
      {openId && <CloudServiceDrawer id={openId} onClose={() => list.setParam("open", null)} />}
    </div>
  );
}

function KeywordSearch({ value, onSearch }: { value: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(value);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(text.trim());
  };
  return (
    <form role="search" onSubmit={submit} className="search">
      <label>
        Search
        <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="name, id, account…" />
      </label>
      <button type="submit">Search</button>
    </form>
  );
}
