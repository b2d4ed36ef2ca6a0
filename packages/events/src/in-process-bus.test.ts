import { describe, expect, it } from "vitest";
import pino from "pino";
import { waitFor } from "@cloudforet/testing";
import { eventBusContract } from "./event-bus.contract";
import { InProcessBus } from "./in-process-bus";
import { createEvent } from "./event";
import { acquireSharedInProcessBus } from "./open-event-bus";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

eventBusContract("InProcessBus", async () => {
  const bus = new InProcessBus({ logger, redelivery: { initialDelayMs: 50, maxDelayMs: 200 } });
  return { bus, subjectPrefix: "t_inproc", cleanup: () => bus.close() };
});

describe("InProcessBus", () => {
  it("gives up after maxDeliver attempts", async () => {
    const bus = new InProcessBus({ logger, redelivery: { initialDelayMs: 10, maxDelayMs: 10, maxDeliver: 3 } });
    let attempts = 0;
    await bus.subscribe({
      durable: "poison",
      subjects: "t.poison.>",
      handler: () => {
        attempts += 1;
        throw new Error("always fails");
      },
    });
    await bus.publish(createEvent({ subject: "t.poison.event", data: {} }));
    await waitFor(() => attempts === 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(attempts).toBe(3);
    await bus.close();
  });

  it("is shared by every service of the process and closed with the last lease", async () => {
    const inventory = acquireSharedInProcessBus({ logger });
    const cost = acquireSharedInProcessBus({ logger });
    const seen: string[] = [];
    await cost.subscribe({ durable: "cost", subjects: "cloudforet.inventory.>", handler: (e) => void seen.push(e.id) });

    const event = createEvent({ subject: "cloudforet.inventory.job.finished", data: {} });
    await inventory.publish(event);
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([event.id]);

    await cost.close();
    await inventory.publish(createEvent({ subject: "cloudforet.inventory.job.created", data: {} }));
    await inventory.close();
    await expect(inventory.publish(createEvent({ subject: "cloudforet.x.y.z", data: {} }))).rejects.toThrow(/closed/);
  });

  it("lets two replicas in one process share a durable: each event reaches one, and the second takes over", async () => {
    const bus = new InProcessBus({ logger });
    const first: string[] = [];
    const second: string[] = [];
    const a = await bus.subscribe({ durable: "shared", subjects: "t.shared.>", handler: (e) => void first.push(e.id) });
    const b = await bus.subscribe({ durable: "shared", subjects: "t.shared.>", handler: (e) => void second.push(e.id) });
    await expect(b.caughtUp).resolves.toBeUndefined();
    const before = createEvent({ subject: "t.shared.one", data: {} });
    await bus.publish(before);
    await waitFor(() => first.length === 1);

    await a.close();
    const after = createEvent({ subject: "t.shared.two", data: {} });
    await bus.publish(after);
    await waitFor(() => second.length === 1);
    expect({ first, second }).toEqual({ first: [before.id], second: [after.id] });
    await b.close();
    await bus.close();
  });
});
