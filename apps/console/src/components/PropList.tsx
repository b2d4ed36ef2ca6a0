import type { ReactNode } from "react";

/** A definition list of a record's fields: label → value, "—" when empty. */
export function PropList({ rows }: { rows: readonly (readonly [string, ReactNode])[] }) {
  return (
    <dl className="props">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v === "" || v === undefined || v === null ? "—" : v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A map of tags as a two-column table, or a note when there are none. */
export function TagTable({ tags, label = "Tags" }: { tags: Record<string, string>; label?: string }) {
  const entries = Object.entries(tags);
  if (entries.length === 0) return <p className="muted">No tags.</p>;
  return (
    <table className="kv" aria-label={label}>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
