import { useState, type FormEvent } from "react";
import { useSession } from "../auth/session";
import { ErrorPanel } from "../components/ErrorPanel";

export function LoginPage() {
  const { login, endedBecause } = useSession();
  const [domainId, setDomainId] = useState("domain-default");
  const [userId, setUserId] = useState("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(domainId.trim(), userId.trim(), password);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">CloudForet</h1>
        <p className="muted">Sign in to the console. On a first start, the admin password is the one `npm start` printed.</p>
        {endedBecause && <p role="status">{endedBecause}</p>}
        <label>
          Domain
          <input name="domain" value={domainId} onChange={(e) => setDomainId(e.target.value)} required autoComplete="organization" />
        </label>
        <label>
          User
          <input name="user" value={userId} onChange={(e) => setUserId(e.target.value)} required autoComplete="username" />
        </label>
        <label>
          Password
          <input name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="current-password" />
        </label>
        {error !== null && <ErrorPanel error={error} what="Sign-in failed" />}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
