import { useEffect, useRef, type ReactNode } from "react";

/** A side panel over the page; Escape or the close button dismisses it and focus moves into it. */
export function Drawer({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    ref.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <aside ref={ref} className="drawer" role="dialog" aria-modal="false" aria-label={title} tabIndex={-1}>
      <header>
        <h2>{title}</h2>
        <button type="button" onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      <div className="drawer-body">{children}</div>
    </aside>
  );
}
