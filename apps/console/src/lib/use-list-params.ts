import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";
import { encodeFilter, readListState, type FilterRow, type ListState } from "./url-query";

/** A list page's state read from and written to the URL's query string. */
export function useListParams(defaults: { sort: string; size?: number }) {
  const [params, setParams] = useSearchParams();
  const state: ListState = useMemo(() => readListState(params, defaults), [params, defaults.sort, defaults.size]);

  const update = useCallback(
    (change: (next: URLSearchParams) => void, resetPage = true) => {
      setParams((prev) => {
        const next = new URLSearchParams(prev);
        change(next);
        if (resetPage) next.delete("page");
        return next;
      });
    },
    [setParams],
  );

  return {
    params,
    state,
    update,
    setFilters: (rows: FilterRow[]) =>
      update((p) => {
        p.delete("f");
        rows.forEach((r) => p.append("f", encodeFilter(r)));
      }),
    setKeyword: (q: string) => update((p) => (q ? p.set("q", q) : p.delete("q"))),
    setSort: (key: string) =>
      update((p) => p.set("sort", state.sortKey === key && !state.sortDesc ? `-${key}` : key)),
    setPage: (page: number) => update((p) => p.set("page", String(page)), false),
    setParam: (name: string, value: string | null, resetPage = false) => update((p) => (value === null || value === "" ? p.delete(name) : p.set(name, value)), resetPage),
  };
}
