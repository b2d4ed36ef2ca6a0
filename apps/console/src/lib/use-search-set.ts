import { useCallback } from "react";
import { useSearchParams } from "react-router";

/**
 * The URL's query string, and a setter writing parameters in one navigation (an empty value removes
 * one). One call per change: react-router's functional updates do not compose within a render.
 */
export function useSearchSet() {
  const [params, setParams] = useSearchParams();
  const set = useCallback(
    (changes: Record<string, string>) =>
      setParams((prev) => {
        const next = new URLSearchParams(prev);
        for (const [name, value] of Object.entries(changes)) {
          if (value) next.set(name, value);
          else next.delete(name);
        }
        return next;
      }),
    [setParams],
  );
  return [params, set] as const;
}
