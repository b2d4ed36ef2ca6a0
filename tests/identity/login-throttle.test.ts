// Login throttling: per client address and per account, with a doubling wait instead of a lock an
// attacker controls; shared by replicas; the same for SetPassword's current_password; and one answer
// for every kind of bad credentials.
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "@connectrpc/connect";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { User_State, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { identityModule } from "@cloudforet/identity";
import { startService } from "@cloudforet/runtime";
import { secretCanary } from "@cloudforet/testing";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, failure, fromAddress, startIdentity, type IdentityHarness } from "./harness";

let identity: IdentityHarness;
const PASSWORD = secretCanary("user_password");

beforeAll(async () => {
  identity = await startIdentity();
});

afterAll(async () => {
  await identity?.close();
});

/** Each test guesses from loopback addresses of its own, so the per-address counters do not mix. */
const login = (from: string, userId: string, password: string, domainId = "domain-default") =>
  identity.clientFrom(AuthService, from).login({ domainId, userId, password });

describe("login throttling per address and account", () => {
  it("5 wrong admin passwords from X throttle X with growing RetryInfo delays, while the admin still logs in from Y", async () => {
    const attacker = "127.0.0.2";
    const admin = "127.0.0.3";
    for (let i = 0; i < 5; i++) {
      expect(await failure(login(attacker, "admin", `wrong-${i}`))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
    }
    // X is refused even with the right password: it must wait.
    const first = await failure(login(attacker, "admin", ADMIN_PASSWORD));
    expect(first).toMatchObject({ code: "ERROR_RATE_LIMITED", grpcCode: Code.ResourceExhausted });
    expect(first.retryAfterMs).toBeGreaterThan(0);
    expect(first.retryAfterMs).toBeLessThanOrEqual(1000);

    // The real admin, from another address, is not locked out.
    expect((await login(admin, "admin", ADMIN_PASSWORD)).token).toMatch(/^eyJ/);

    // Each further failure from X doubles the wait.
    await sleep(first.retryAfterMs! + 50);
    expect((await failure(login(attacker, "admin", "wrong-again"))).code).toBe("ERROR_AUTHENTICATE_FAILURE");
    const second = await failure(login(attacker, "admin", ADMIN_PASSWORD));
    expect(second.code).toBe("ERROR_RATE_LIMITED");
    expect(second.retryAfterMs).toBeGreaterThan(1000);
    expect(second.retryAfterMs).toBeLessThanOrEqual(2000);

    await sleep(second.retryAfterMs! + 50);
    expect((await failure(login(attacker, "admin", "wrong-yet-again"))).code).toBe("ERROR_AUTHENTICATE_FAILURE");
    const third = await failure(login(attacker, "admin", "wrong-once-more"));
    expect(third.code).toBe("ERROR_RATE_LIMITED");
    expect(third.retryAfterMs).toBeGreaterThan(2000);
    expect(third.retryAfterMs).toBeLessThanOrEqual(4000);

    expect((await login(admin, "admin", ADMIN_PASSWORD)).token).toMatch(/^eyJ/);
  });

  it("spraying many users from one address is throttled after 20 failures, for every user id", async () => {
    const sprayer = "127.0.0.4";
    for (let i = 0; i < 20; i++) {
      expect((await failure(login(sprayer, `sprayed-${i}`, "Summer2024!"))).code).toBe("ERROR_AUTHENTICATE_FAILURE");
    }
    const limited = await failure(login(sprayer, "sprayed-20", "Summer2024!"));
    expect(limited).toMatchObject({ code: "ERROR_RATE_LIMITED", grpcCode: Code.ResourceExhausted });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    // The sprayer's address is throttled for real accounts too; other addresses are not.
    expect((await failure(login(sprayer, "admin", ADMIN_PASSWORD))).code).toBe("ERROR_RATE_LIMITED");
    expect((await login("127.0.0.5", "admin", ADMIN_PASSWORD)).token).toMatch(/^eyJ/);
  });

  it("counts an address's failures on every replica against one allowance (the counters live in Postgres)", async () => {
    const small = await startIdentity({ IDENTITY_LOGIN_ADDRESS_FREE_ATTEMPTS: "6" });
    const replica = await startService(identityModule, small.env);
    try {
      const from = "127.0.0.6";
      const onFirst = small.clientFrom(AuthService, from);
      const onReplica = createClient(AuthService, createConnectTransport({ baseUrl: replica.url, httpVersion: "2", nodeOptions: fromAddress(from) }));
      // Three different users on each replica: no replica alone reaches 6, together they do.
      for (let i = 0; i < 3; i++) expect((await failure(onFirst.login({ domainId: "domain-default", userId: `first-${i}`, password: "wrong-pass" }))).code).toBe("ERROR_AUTHENTICATE_FAILURE");
      for (let i = 0; i < 3; i++) expect((await failure(onReplica.login({ domainId: "domain-default", userId: `second-${i}`, password: "wrong-pass" }))).code).toBe("ERROR_AUTHENTICATE_FAILURE");
      expect((await failure(onFirst.login({ domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD }))).code).toBe("ERROR_RATE_LIMITED");
      expect((await failure(onReplica.login({ domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD }))).code).toBe("ERROR_RATE_LIMITED");
    } finally {
      await replica.close();
      await small.close();
    }
  });
});

describe("SetPassword's current_password", () => {
  it("is throttled like a login: 5 wrong guesses, then RESOURCE_EXHAUSTED with RetryInfo even for the right one", async () => {
    const from = "127.0.0.7";
    await identity.client(UserService, identity.adminToken).create({ userId: "quentin", password: PASSWORD });
    const { token } = await login(from, "quentin", PASSWORD);
    const self = identity.clientFrom(UserService, from, token);
    for (let i = 0; i < 5; i++) {
      expect(await failure(self.setPassword({ userId: "quentin", password: "N3w-Passw0rd-long", currentPassword: `guess-${i}` }))).toMatchObject({
        code: "ERROR_AUTHENTICATE_FAILURE",
      });
    }
    const limited = await failure(self.setPassword({ userId: "quentin", password: "N3w-Passw0rd-long", currentPassword: PASSWORD }));
    expect(limited).toMatchObject({ code: "ERROR_RATE_LIMITED", grpcCode: Code.ResourceExhausted });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
  });
});

describe("one answer for every kind of bad credentials", () => {
  it("unknown domain, unknown user, disabled user and wrong password get the same code, reason, message and metadata", async () => {
    const users = identity.client(UserService, identity.adminToken);
    await users.create({ userId: "rita", password: PASSWORD });
    await users.update({ userId: "rita", state: User_State.DISABLED });
    const from = "127.0.0.8";
    // The same request id each time, so even the echoed request_id cannot differ.
    const auth = createClient(
      AuthService,
      createConnectTransport({
        baseUrl: identity.url,
        httpVersion: "2",
        nodeOptions: fromAddress(from),
        interceptors: [(next) => (req) => (req.header.set("x-request-id", "req-same"), next(req))],
      }),
    );
    const answers = await Promise.all(
      [
        { domainId: "domain-missing", userId: "admin", password: "wrong-pass-1" },
        { domainId: "domain-default", userId: "nobody-at-all", password: "wrong-pass-1" },
        { domainId: "domain-default", userId: "rita", password: PASSWORD },
        { domainId: "domain-default", userId: "admin", password: "wrong-pass-1" },
      ].map((request) => failure(auth.login(request))),
    );
    expect(answers[0]).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated, message: "Invalid credentials" });
    for (const answer of answers) expect(answer).toEqual(answers[0]);
  });
});
