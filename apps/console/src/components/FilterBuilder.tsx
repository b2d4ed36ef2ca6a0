import { useState, type FormEvent } from "react";
import { OPERATORS, type FilterRow } from "../lib/url-query";

/** The query language's filters as rows of key / operator / value; applied rows live in the URL. */
export function FilterBuilder({ filters, keys, onChange }: { filters: FilterRow[]; keys: string[]; onChange: (rows: FilterRow[]) => void }) {
  const [draft, setDraft] = useState<FilterRow>({ key: keys[0] ?? "", operator: "eq", value: "" });

  function add(e: FormEvent) {
    e.preventDefault();
    if (!draft.key.trim()) return;
    onChange([...filters, { ...draft, key: draft.key.trim() }]);
    setDraft({ ...draft, value: "" });
  }

  return (
    <div className="filters">
      <form onSubmit={add} aria-label="Add a filter" className="filter-form">
        <label>
          Field
          <input list="filter-keys" value={draft.key} onChange={(e) => setDraft({ ...draft, key: e.target.value })} placeholder="e.g. data.cluster" />
          <datalist id="filter-keys">
            {keys.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </label>
        <label>
          Operator
          <select value={draft.operator} onChange={(e) => setDraft({ ...draft, operator: e.target.value })}>
            {OPERATORS.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </label>
        <label>
          Value
          <input value={draft.value} onChange={(e) => setDraft({ ...draft, value: e.target.value })} placeholder={draft.operator.endsWith("in") ? "a, b, c" : ""} />
        </label>
        <button type="submit">Add filter</button>
      </form>
      {filters.length > 0 && (
        <ul className="chips" aria-label="Active filters">
          {filters.map((f, i) => (
            <li key={`${f.key}-${i}`}>
              <code>
                {f.key} {f.operator} {f.value}
              </code>
              <button type="button" aria-label={`Remove filter ${f.key} ${f.operator} ${f.value}`} onClick={() => onChange(filters.filter((_, j) => j !== i))}>
                ×
              </button>
            </li>
          ))}
          <li>
            <button type="button" onClick={() => onChange([])}>
              Clear all
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}
