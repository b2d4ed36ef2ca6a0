import { describe, expect, it } from "vitest";
import { AccessChangeList, ROLE_CHANGE_GRACE_SECONDS, RevocationList } from "./access-changes";

const ROLES_CHANGED = "cloudforet.identity.user.roles_changed";
const now = Math.floor(Date.now() / 1000);
const at = (seconds: number) => new Date(seconds * 1000).toISOString();
const tokenOf = (iat: number, sub = "user-1") => ({ did: "domain-a", sub, iat });
const member = [{ role: "WORKSPACE_MEMBER" as const, workspace_id: "ws-1" }];
const owner = [{ role: "WORKSPACE_OWNER" as const, workspace_id: "ws-1" }];

describe("AccessChangeList role changes", () => {
  it("gives a token issued before the change the event's bindings", () => {
    const list = new AccessChangeList();
    list.apply(ROLES_CHANGED, { domain_id: "domain-a", user_id: "user-1", roles: member, at: at(now) });
    expect(list.currentRoles(tokenOf(now - 100))).toEqual(member);
    expect(list.currentRoles(tokenOf(now))).toEqual(member);
    // An emptied user keeps authenticating, with no rights at all.
    list.apply(ROLES_CHANGED, { domain_id: "domain-a", user_id: "user-1", roles: [], at: at(now + 1) });
    expect(list.currentRoles(tokenOf(now - 100))).toEqual([]);
  });

  it("leaves a token issued after the change with its own claims", () => {
    const list = new AccessChangeList();
    list.apply(ROLES_CHANGED, { domain_id: "domain-a", user_id: "user-1", roles: member, at: at(now - 60) });
    expect(list.currentRoles(tokenOf(now - 60 + ROLE_CHANGE_GRACE_SECONDS + 1))).toBeUndefined();
    expect(list.currentRoles(tokenOf(now))).toBeUndefined();
    expect(list.currentRoles(tokenOf(now - 100, "user-2"))).toBeUndefined(); // another user
  });

  it("keeps only the latest bindings per user; a late older change does not win", () => {
    const list = new AccessChangeList();
    list.apply(ROLES_CHANGED, { domain_id: "domain-a", user_id: "user-1", roles: member, at: at(now - 20) });
    list.apply(ROLES_CHANGED, { domain_id: "domain-a", user_id: "user-1", roles: owner, at: at(now - 10) });
    list.apply(ROLES_CHANGED, { domain_id: "domain-a", user_id: "user-1", roles: member, at: at(now - 15) });
    expect(list.currentRoles(tokenOf(now - 100))).toEqual(owner);
    expect((list as unknown as { roles: Map<string, unknown> }).roles.size).toBe(1);
  });

  it("ignores malformed bindings and forgets a deleted user's", () => {
    const list = new AccessChangeList();
    list.apply(ROLES_CHANGED, { domain_id: "domain-a", user_id: "user-1", roles: [{ role: "GOD" }], at: at(now) });
    list.apply(ROLES_CHANGED, { domain_id: "domain-a", user_id: "user-1", roles: "DOMAIN_ADMIN", at: at(now) });
    expect(list.currentRoles(tokenOf(now - 100))).toBeUndefined();
    list.apply(ROLES_CHANGED, { domain_id: "domain-a", user_id: "user-1", roles: member, at: at(now - 10) });
    list.apply("cloudforet.identity.user.deleted", { domain_id: "domain-a", user_id: "user-1", at: at(now - 5) });
    expect(list.reasonToReject(tokenOf(now - 100))).toBe("user's tokens were revoked");
    expect(list.currentRoles(tokenOf(now - 100))).toBeUndefined();
  });

  it("is still importable under its earlier name", () => {
    expect(new RevocationList()).toBeInstanceOf(AccessChangeList);
  });
});
