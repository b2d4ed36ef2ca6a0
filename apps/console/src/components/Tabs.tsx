/** A row of tabs; the selected one is `value`. Each tab is a button (keyboard: Tab, Enter/Space). */
export function Tabs<T extends string>({ label, tabs, value, onChange }: { label: string; tabs: readonly (readonly [T, string])[]; value: T; onChange: (v: T) => void }) {
  return (
    <div role="tablist" aria-label={label} className="tabs">
      {tabs.map(([key, text]) => (
        <button key={key} type="button" role="tab" aria-selected={value === key} onClick={() => onChange(key)}>
          {text}
        </button>
      ))}
    </div>
  );
}
