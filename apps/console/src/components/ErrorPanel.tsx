import { explainError } from "../lib/errors";

/** A failed call, said plainly: what failed, the server's words, what to do, the request id. */
export function ErrorPanel({ error, what, onRetry }: { error: unknown; what?: string; onRetry?: () => void }) {
  const e = explainError(error, what);
  return (
    <div role="alert" className="error-panel">
      <strong>{e.title}</strong>
      {e.detail && <p>{e.detail}</p>}
      <p>{e.action}</p>
      <small>
        {e.code}
        {e.requestId && <> · request id <code>{e.requestId}</code></>}
      </small>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
