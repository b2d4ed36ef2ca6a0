export function SortHeader({ label, field, sortKey, desc, onSort }: { label: string; field: string; sortKey: string; desc: boolean; onSort: (field: string) => void }) {
  const active = sortKey === field;
  return (
    <th scope="col" aria-sort={active ? (desc ? "descending" : "ascending") : "none"}>
      <button type="button" className="sort" onClick={() => onSort(field)}>
        {label}
        {active ? (desc ? " ▼" : " ▲") : ""}
      </button>
    </th>
  );
}
