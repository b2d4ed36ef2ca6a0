// The signed-in session, kept in memory only (a reload signs out): the access token every call
// sends, renewed through AuthService.Refresh a minute before it expires.
import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

export interface Session {
  domainId: string;
  userId: string;
  token: string;
  refreshToken: string;
  expiresAt: number;
}

interface SessionApi {
  session: Session | null;
  /** Why the last session ended, when it did not end by logout (shown on the login page). */
  endedBecause: string | null;
  login(domainId: string, userId: string, password: string): Promise<void>;
  logout(reason?: string): void;
}

const SessionContext = createContext<SessionApi | null>(null);

/** The token calls use; read by the interceptor at call time so a refresh applies at once. */
const current: { token: string | null } = { token: null };

export const authInterceptor: Interceptor = (next) => (req) => {
  if (current.token) req.header.set("authorization", `Bearer ${current.token}`);
  return next(req);
};

function toMillis(ts: Timestamp | undefined, fallback: number): number {
  return ts ? timestampDate(ts).getTime() : fallback;
}

/** Renew this long before expiry (halfway through, for short-lived tokens). */
export function refreshDelay(expiresAt: number, now: number): number {
  const left = expiresAt - now;
  return Math.max(0, left - 60_000, left / 2);
}

export function SessionProvider({ transport, children, onEnd }: { transport: Transport; children: ReactNode; onEnd?: () => void }) {
  const [session, setSession] = useState<Session | null>(null);
  const [endedBecause, setEndedBecause] = useState<string | null>(null);
  const auth = useMemo(() => createClient(AuthService, transport), [transport]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const apply = useCallback((next: Session | null) => {
    current.token = next?.token ?? null;
    setSession(next);
  }, []);

  const logout = useCallback(
    (reason?: string) => {
      clearTimeout(timer.current);
      apply(null);
      setEndedBecause(reason ?? null);
      onEnd?.();
    },
    [apply, onEnd],
  );

  const login = useCallback(
    async (domainId: string, userId: string, password: string) => {
      const res = await auth.login({ domainId, userId, password });
      setEndedBecause(null);
      apply({ domainId: res.domainId || domainId, userId, token: res.token, refreshToken: res.refreshToken, expiresAt: toMillis(res.expiresAt, Date.now() + 3_600_000) });
    },
    [auth, apply],
  );

  useEffect(() => {
    if (!session) return;
    timer.current = setTimeout(async () => {
      try {
        const res = await auth.refresh({ refreshToken: session.refreshToken });
        apply({ ...session, token: res.token, refreshToken: res.refreshToken, expiresAt: toMillis(res.expiresAt, Date.now() + 3_600_000) });
      } catch {
        logout("Your session expired and could not be renewed. Sign in again.");
      }
    }, refreshDelay(session.expiresAt, Date.now()));
    return () => clearTimeout(timer.current);
  }, [session, auth, apply, logout]);

  const api = useMemo(() => ({ session, endedBecause, login, logout }), [session, endedBecause, login, logout]);
  return <SessionContext.Provider value={api}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const api = useContext(SessionContext);
  if (!api) throw new Error("useSession outside SessionProvider");
  return api;
}
