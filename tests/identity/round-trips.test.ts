// Issue 15: an authenticated read costs one database round trip (its query). The caller's token,
// revocations, bindings and workspace scope come from memory; a List's role bindings come in the
// List's own statement. Counted on the wire by a proxy in front of Postgres.
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { identityModule } from "@cloudforet/identity";
import { startService, type RunningService } from "@cloudforet/runtime";
import { createTestDatabase, startStatementCounter, type StatementCounter, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginAs } from "../support/identity";
import { ADMIN_PASSWORD, secretKeyEntry, str } from "./harness";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

let database: TestDatabase;
let counter: StatementCounter;
let identity: RunningService;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase("identity_round_trips");
  counter = await startStatementCounter(database.url);
  identity = await startService(identityModule, {
    DATABASE_URL: counter.url,
    IDENTITY_ADDR: "127.0.0.1:0",
    LOG_LEVEL: "silent",
    CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    IDENTITY_SECRET_KEYS: secretKeyEntry("k1"),
  });
  token = await loginAs(identity.url, "domain-default", "admin", ADMIN_PASSWORD);
});

afterAll(async () => {
  await identity?.close();
  await counter?.close();
  await database?.drop();
});

const client = <S extends Parameters<typeof createClient>[0]>(service: S) =>
  createClient(service, createConnectTransport({ baseUrl: identity.url, httpVersion: "1.1", interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] }));

/** Waits until nothing else (the outbox relay publishing the set-up's events) talks to Postgres. */
async function quiet(): Promise<void> {
  for (let tries = 0; tries < 50; tries++) {
    counter.reset();
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (counter.roundTrips() === 0) return;
  }
  throw new Error(`Postgres never went quiet:\n${counter.statements().join("\n")}`);
}

/**
 * The round trips of `call` after a warm-up call, the fewest of three tries: a background statement
 * (the outbox relay's safety poll) may land in one window, never in all three.
 */
async function roundTripsOf<T>(call: () => Promise<T>): Promise<{ roundTrips: number; statements: string; answer: T }> {
  let best: { roundTrips: number; statements: string; answer: T } | undefined;
  for (let attempt = 0; attempt < 3 && (best?.roundTrips ?? 2) > 1; attempt++) {
    await quiet();
    await call(); // warm: the caller's facts are loaded once, then kept in memory
    counter.reset();
    const answer = await call();
    if (!best || counter.roundTrips() < best.roundTrips) best = { roundTrips: counter.roundTrips(), statements: counter.statements().join("\n"), answer };
  }
  return best!;
}

describe("identity's reads cost one round trip", () => {
  it("UserService/List reads the page, its count and every listed user's role bindings in one statement", async () => {
    const users = client(UserService);
    await client(WorkspaceService).create({ workspaceId: "ws-rt", name: "RT" });
    for (const [userId, bindings] of [
      ["rt-owner", [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-rt" }, { role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-rt" }]],
      ["rt-none", []],
    ] as const) {
      await users.create({ userId, password: "", name: userId, email: `${userId}@rt.local`, roleBindings: [...bindings] });
    }
    const { roundTrips, statements, answer: listed } = await roundTripsOf(() => users.list({ query: { filter: [{ k: "user_id", v: str("rt-"), o: "contain" }], sort: { key: "user_id" } } }));
    expect(roundTrips, statements).toBe(1);
    expect(listed.totalCount).toBe(2);
    expect(listed.results.map((u) => [u.userId, u.roleBindings.map((b) => [RoleBinding_Role[b.role], b.workspaceId])])).toEqual([
      ["rt-none", []],
      ["rt-owner", [["WORKSPACE_MEMBER", "ws-rt"], ["WORKSPACE_OWNER", "ws-rt"]]],
    ]);
    expect(listed.results[1].roleBindings[0].createdAt?.seconds).toBeGreaterThan(0n);
  });

  it("a List trimmed by `only` reads no role bindings at all", async () => {
    const { roundTrips, statements, answer: listed } = await roundTripsOf(() => client(UserService).list({ query: { only: ["user_id"], filter: [{ k: "user_id", v: str("rt-owner"), o: "eq" }] } }));
    expect(roundTrips, statements).toBe(1);
    expect(statements).not.toContain("role_bindings\".\"role\"");
    expect(listed.results.map((u) => [u.userId, u.roleBindings.length])).toEqual([["rt-owner", 0]]);
  });
});
