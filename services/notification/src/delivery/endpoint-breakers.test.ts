import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { DeliveryFailure } from "./delivery-failure";
import { BreakerOpenError, EndpointBreakers } from "./endpoint-breakers";
import { retryDelayMs } from "./retry-schedule";

const endpoint = { key: "http:abc", label: "http://127.0.0.1:1" };
const other = { key: "http:def", label: "http://127.0.0.1:2" };
const transient = () => Promise.reject(new DeliveryFailure("HTTP 500", true));
const permanent = () => Promise.reject(new DeliveryFailure("HTTP 404", false));
const ok = () => Promise.resolve();

describe("EndpointBreakers", () => {
  let breakers: EndpointBreakers;
  afterEach(() => breakers?.shutdown());

  it("opens after the threshold of consecutive retryable failures, per endpoint, then fails fast", async () => {
    breakers = new EndpointBreakers({ failureThreshold: 3, resetTimeoutMs: 60_000, logger: pino({ level: "silent" }) });
    for (let i = 0; i < 3; i++) await expect(breakers.run(endpoint, transient)).rejects.toThrow("HTTP 500");
    expect(breakers.stateOf(endpoint.key)).toBe("open");
    let called = false;
    const err = await breakers.run(endpoint, async () => void (called = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BreakerOpenError);
    expect((err as BreakerOpenError).retryAfterMs).toBeGreaterThan(59_000);
    expect(called).toBe(false);
    await expect(breakers.run(other, ok)).resolves.toBeUndefined();
  });

  it("does not count answers that will not change, and a success resets the count", async () => {
    breakers = new EndpointBreakers({ failureThreshold: 2, resetTimeoutMs: 60_000, logger: pino({ level: "silent" }) });
    for (let i = 0; i < 5; i++) await expect(breakers.run(endpoint, permanent)).rejects.toThrow("HTTP 404");
    await expect(breakers.run(endpoint, transient)).rejects.toThrow();
    await breakers.run(endpoint, ok);
    await expect(breakers.run(endpoint, transient)).rejects.toThrow();
    expect(breakers.stateOf(endpoint.key)).toBe("closed");
  });

  it("lets one probe through after the reset timeout and closes when it succeeds", async () => {
    breakers = new EndpointBreakers({ failureThreshold: 1, resetTimeoutMs: 50, logger: pino({ level: "silent" }) });
    await expect(breakers.run(endpoint, transient)).rejects.toThrow("HTTP 500");
    await expect(breakers.run(endpoint, ok)).rejects.toBeInstanceOf(BreakerOpenError);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await breakers.run(endpoint, ok);
    expect(breakers.stateOf(endpoint.key)).toBe("closed");
  });
});

describe("retryDelayMs", () => {
  it("doubles from the base and stops at the cap (seed 000, pattern 1)", () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 1000, 300_000))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(retryDelayMs(30, 1000, 300_000)).toBe(300_000);
  });
});
