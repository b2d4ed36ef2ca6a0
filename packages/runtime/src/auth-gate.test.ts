import { PlatformError, authenticateFailure } from "@cloudforet/errors";
import { Health } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { EchoService } from "@cloudforet/proto/cloudforet/testing/v1/echo_pb";
import { describe, expect, it } from "vitest";
import { createContextValues } from "@connectrpc/connect";
import { authenticationGate } from "./auth-gate";
import { authInterceptor } from "./auth";
import { callerKey, type Caller } from "./caller";

const callerOf = (userId: string): Caller => ({ domainId: "d", userId, workspaceIds: [], domainAdmin: false, roles: [] });

/** A verifier that knows tokens by name, counts its calls and can be told a token is revoked. */
function fakeVerifier() {
  const revoked = new Set<string>();
  const calls: string[] = [];
  return {
    calls,
    revoked,
    verify: async (token: string) => {
      calls.push(token);
      if (!token.startsWith("ok-") || revoked.has(token)) throw authenticateFailure("Invalid or expired token");
      return callerOf(token);
    },
  };
}

const call = (method: "echo" | "check", authorization?: string) => ({
  values: createContextValues(),
  service: method === "echo" ? EchoService : Health,
  method: method === "echo" ? EchoService.method.echo : Health.method.check,
  requestHeader: new Headers(authorization ? { authorization } : {}),
});

describe("authenticationGate", () => {
  it("lets public procedures through without a token and refuses the others without a valid one", async () => {
    const fake = fakeVerifier();
    const gate = authenticationGate(() => fake.verify);
    expect(await gate(call("check"))).toBe("public");
    expect(await gate(call("echo", "Bearer ok-alice"))).toBe("authenticated");
    for (const header of [undefined, "Basic abc", "Bearer forged", "Bearer"]) {
      const err = await gate(call("echo", header)).catch((e) => e);
      expect(err).toBeInstanceOf(PlatformError);
      expect((err as PlatformError).code).toBe("ERROR_AUTHENTICATE_FAILURE");
    }
  });

  it("refuses everything but public procedures while there is no verifier yet", async () => {
    const gate = authenticationGate(() => undefined);
    expect(await gate(call("check"))).toBe("public");
    expect(await gate(call("echo", "Bearer ok-alice")).catch((e) => (e as PlatformError).code)).toBe("ERROR_AUTHENTICATE_FAILURE");
  });
});

describe("the gate and the auth interceptor", () => {
  it("verify each call's token once: the gate leaves the caller in the call's context values", async () => {
    const fake = fakeVerifier();
    const gate = authenticationGate(() => fake.verify);
    const values = createContextValues();
    await gate({ ...call("echo", "Bearer ok-alice"), values });
    expect(values.get(callerKey)).toMatchObject({ userId: "ok-alice" });
    let reached: Caller | undefined;
    const intercept = authInterceptor(fake.verify)(async (req) => {
      reached = req.contextValues.get(callerKey);
      return {} as never;
    });
    await intercept({ ...call("echo", "Bearer ok-alice"), header: new Headers({ authorization: "Bearer ok-alice" }), contextValues: values } as never);
    expect(reached).toMatchObject({ userId: "ok-alice" });
    expect(fake.calls).toEqual(["ok-alice"]);
  });

  it("a call the gate did not see is verified by the interceptor, and a revoked token is refused there", async () => {
    const fake = fakeVerifier();
    fake.revoked.add("ok-bob");
    const intercept = authInterceptor(fake.verify)(async () => ({}) as never);
    const err = await intercept({ ...call("echo"), header: new Headers({ authorization: "Bearer ok-bob" }), contextValues: createContextValues() } as never).catch((e) => e);
    expect((err as PlatformError).code).toBe("ERROR_AUTHENTICATE_FAILURE");
    expect(fake.calls).toEqual(["ok-bob"]);
  });
});
