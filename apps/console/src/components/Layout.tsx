import { NavLink, Outlet } from "react-router";
import { useSession } from "../auth/session";

const NAV = [
  { to: "/cloud-services", label: "Cloud services" },
  { to: "/collectors", label: "Collectors & jobs" },
  { to: "/workflows", label: "Workflow instances" },
  { to: "/costs", label: "Costs" },
  { to: "/metrics", label: "Metrics" },
  { to: "/notifications", label: "Notifications" },
  { to: "/identity", label: "Identity" },
];

export function Layout() {
  const { session, logout } = useSession();
  return (
    <div className="shell">
      <a href="#main" className="skip">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <div className="brand">CloudForet</div>
        <ul>
          {NAV.map((item) => (
            <li key={item.to}>
              <NavLink to={item.to}>{item.label}</NavLink>
            </li>
          ))}
        </ul>
        <div className="whoami">
          <span>
            {session?.userId} @ {session?.domainId}
          </span>
          <button type="button" onClick={() => logout()}>
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" className="content">
        <Outlet />
      </main>
    </div>
  );
}
