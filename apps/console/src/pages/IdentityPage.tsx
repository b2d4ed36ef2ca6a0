import type { JSX } from "react";
import { Tabs } from "../components/Tabs";
import { useSearchSet } from "../lib/use-search-set";
import { ApiKeysTab } from "./identity/ApiKeysTab";
import { SecretsTab } from "./identity/SecretsTab";
import { ServiceAccountsTab } from "./identity/ServiceAccountsTab";
import { UsersTab } from "./identity/UsersTab";
import { WorkspacesTab } from "./identity/WorkspacesTab";

const TABS = [
  ["workspaces", "Workspaces"],
  ["users", "Users & roles"],
  ["service-accounts", "Service accounts"],
  ["api-keys", "API keys"],
  ["secrets", "Secrets"],
] as const;
type Tab = (typeof TABS)[number][0];

const PANELS: Record<Tab, () => JSX.Element> = {
  workspaces: WorkspacesTab,
  users: UsersTab,
  "service-accounts": ServiceAccountsTab,
  "api-keys": ApiKeysTab,
  secrets: SecretsTab,
};

/** Identity: workspaces, users and their role bindings, service accounts, API keys, secrets' metadata. */
export default function IdentityPage() {
  const [params, set] = useSearchSet();
  const raw = params.get("tab");
  const tab: Tab = TABS.some(([key]) => key === raw) ? (raw as Tab) : "workspaces";
  const Panel = PANELS[tab];
  return (
    <div className="page">
      <header className="page-head">
        <h1>Identity</h1>
      </header>
      <Tabs label="Identity" tabs={TABS} value={tab} onChange={(t) => set({ tab: t === "workspaces" ? "" : t })} />
      <Panel />
    </div>
  );
}
