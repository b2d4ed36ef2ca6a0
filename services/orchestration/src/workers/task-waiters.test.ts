import { describe, expect, it } from "vitest";
import { TaskWaiters } from "./task-waiters";

const key = (tenant: string | undefined, handlerName = "email_send") => ({ tenant, handlerName });

describe("TaskWaiters", () => {
  it("wakes as many waiting pollers as tasks are ready, longest waiting first", async () => {
    const waiters = new TaskWaiters();
    const [a, b, c] = [waiters.register(key("acme")), waiters.register(key("acme")), waiters.register(key("acme"))];
    const outcomes = [a, b, c].map((t) => t.wait(2_000));
    waiters.notify("acme", "email_send", 2);
    expect(await outcomes[0]).toBe("woken");
    expect(await outcomes[1]).toBe("woken");
    expect(await Promise.race([outcomes[2], new Promise((resolve) => setTimeout(() => resolve("still waiting"), 50))])).toBe("still waiting");
    waiters.notify("acme", "email_send");
    expect(await outcomes[2]).toBe("woken");
    [a, b, c].forEach((t) => t.dispose());
    expect(waiters.size).toBe(0);
  });

  it("remembers a wake-up that came while the poller was claiming", async () => {
    const waiters = new TaskWaiters();
    const ticket = waiters.register(key("acme"));
    waiters.notify("acme", "email_send", 1);
    expect(await ticket.wait(2_000)).toBe("woken");
    expect(await ticket.wait(20)).toBe("timeout"); // the flag is used up
  });

  it("keeps tenants and handlers apart; a poller of any tenant hears them all", async () => {
    const waiters = new TaskWaiters();
    const [acme, globex, anyTenant, otherHandler] = [waiters.register(key("acme")), waiters.register(key("globex")), waiters.register(key(undefined)), waiters.register(key("acme", "sms_send"))];
    const pending = [acme.wait(100), globex.wait(100), anyTenant.wait(100), otherHandler.wait(100)];
    waiters.notify("acme", "email_send");
    expect(await Promise.all(pending)).toEqual(["woken", "timeout", "woken", "timeout"]);
  });

  it("ends waits on abort and on close", async () => {
    const waiters = new TaskWaiters();
    const gone = new AbortController();
    const aborted = waiters.register(key("acme")).wait(5_000, gone.signal);
    gone.abort();
    expect(await aborted).toBe("aborted");
    const shutdown = waiters.register(key("acme")).wait(5_000);
    waiters.close();
    expect(await shutdown).toBe("aborted");
    expect(await waiters.register(key("acme")).wait(5_000)).toBe("aborted");
  });
});
