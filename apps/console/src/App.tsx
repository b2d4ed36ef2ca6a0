import { TransportProvider } from "@connectrpc/connect-query";
import type { Transport } from "@connectrpc/connect";
import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, useMemo, useRef } from "react";
import { Navigate, Route, Routes } from "react-router";
import { SessionProvider, useSession } from "./auth/session";
import { Layout } from "./components/Layout";
import { Loading } from "./components/States";
import { isUnauthenticated } from "./lib/errors";
import { LoginPage } from "./pages/LoginPage";
import { CloudServicesPage } from "./pages/CloudServicesPage";

const CollectorsPage = lazy(() => import("./pages/CollectorsPage"));
const WorkflowsPage = lazy(() => import("./pages/WorkflowsPage"));
const CostsPage = lazy(() => import("./pages/CostsPage"));
const MetricsPage = lazy(() => import("./pages/MetricsPage"));
const NotificationsPage = lazy(() => import("./pages/NotificationsPage"));
const IdentityPage = lazy(() => import("./pages/IdentityPage"));

function Routed() {
  const { session } = useSession();
  if (!session) return <LoginPage />;
  return (
    <Suspense fallback={<Loading />}>
      <Routes>
        <Route element={<Layout />}>
          <Route path="/cloud-services" element={<CloudServicesPage />} />
          <Route path="/collectors" element={<CollectorsPage />} />
          <Route path="/workflows" element={<WorkflowsPage />} />
          <Route path="/costs" element={<CostsPage />} />
          <Route path="/metrics" element={<MetricsPage />} />
          <Route path="/notifications" element={<NotificationsPage />} />
          <Route path="/identity" element={<IdentityPage />} />
          <Route path="*" element={<Navigate to="/cloud-services" replace />} />
        </Route>
      </Routes>
    </Suspense>
  );
}

/** The providers: transport (generated descriptors → Connect calls), TanStack Query, the session. */
export function App({ transport }: { transport: Transport }) {
  const logoutRef = useRef<(reason: string) => void>(() => {});
  const queryClient = useMemo(
    () =>
      new QueryClient({
        defaultOptions: { queries: { retry: (count, err) => count < 2 && !isUnauthenticated(err), staleTime: 5_000, refetchOnWindowFocus: false } },
        // A token refused anywhere (revoked key, changed password) ends the session once.
        queryCache: new QueryCache({ onError: (err) => isUnauthenticated(err) && logoutRef.current("Your session is no longer valid. Sign in again.") }),
      }),
    [],
  );
  return (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={queryClient}>
        <SessionProvider transport={transport} onEnd={() => queryClient.clear()}>
          <LogoutBridge target={logoutRef} />
          <Routed />
        </SessionProvider>
      </QueryClientProvider>
    </TransportProvider>
  );
}

function LogoutBridge({ target }: { target: { current: (reason: string) => void } }) {
  const { logout } = useSession();
  target.current = logout;
  return null;
}
