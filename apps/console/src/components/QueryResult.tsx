import type { ReactNode } from "react";
import { ErrorPanel } from "./ErrorPanel";
import { Empty, Loading } from "./States";

interface ListQuery<T> {
  data?: { results: T[] };
  error: unknown;
  isPending: boolean;
  refetch: () => unknown;
}

/** A list call's states in one place: loading, the error said plainly, empty, or the rows. */
export function QueryResult<T>({ query, what, empty, children }: { query: ListQuery<T>; what: string; empty: ReactNode; children: (rows: T[]) => ReactNode }) {
  if (query.isPending) return <Loading />;
  if (query.error) return <ErrorPanel error={query.error} what={what} onRetry={() => query.refetch()} />;
  const rows = query.data?.results ?? [];
  return <>{rows.length === 0 ? empty : children(rows)}</>;
}

export { Empty };
