import { describe, expect, it } from "vitest";
import { canAccessWorkspace, readableWorkspaces, requireDomainAccess, requireWorkspaceAccess } from "./access";
import type { Caller } from "./caller";

const caller = (roles: Caller["roles"]): Caller => ({
  domainId: "d",
  userId: "u",
  workspaceIds: roles.flatMap((r) => (r.workspace_id ? [r.workspace_id] : [])),
  domainAdmin: roles.some((r) => r.role === "DOMAIN_ADMIN"),
  roles,
});

describe("role rules", () => {
  const admin = caller([{ role: "DOMAIN_ADMIN" }]);
  const owner = caller([{ role: "WORKSPACE_OWNER", workspace_id: "ws-1" }]);
  const member = caller([{ role: "WORKSPACE_MEMBER", workspace_id: "ws-1" }]);

  it.each([
    ["admin", admin, "ws-9", "write", true],
    ["owner", owner, "ws-1", "write", true],
    ["owner", owner, "ws-2", "read", false],
    ["member", member, "ws-1", "read", true],
    ["member", member, "ws-1", "write", false],
    ["member", member, "ws-2", "read", false],
  ] as const)("%s on %s may %s: %s", (_name, who, ws, access, allowed) => {
    expect(canAccessWorkspace(who, ws, access)).toBe(allowed);
    if (allowed) expect(() => requireWorkspaceAccess(who, ws, access)).not.toThrow();
    else expect(() => requireWorkspaceAccess(who, ws, access)).toThrow(/access to workspace denied/);
  });

  it("lets only domain admins write domain-wide things, and everyone read them", () => {
    expect(() => requireDomainAccess(admin, "write")).not.toThrow();
    expect(() => requireDomainAccess(owner, "write")).toThrow(/domain admin/);
    expect(() => requireDomainAccess(member, "read")).not.toThrow();
  });

  it("narrows List to the caller's workspaces unless admin", () => {
    expect(readableWorkspaces(admin)).toBe("all");
    expect(readableWorkspaces(member)).toEqual(["ws-1"]);
  });
});
