import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@cloudforet/testing";
import { createEvent, type PlatformEvent } from "./event";
import type { DeliveryContext, EventBus, EventSubscription } from "./event-bus";

/** What a bus implementation hands the contract: a bus whose stream captures `<subjectPrefix>.>`. */
export interface ContractBus {
  bus: EventBus;
  subjectPrefix: string;
  cleanup(): Promise<void>;
}

interface Received {
  event: PlatformEvent;
  context: DeliveryContext;
}

const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every EventBus must have, run against JetStreamBus and InProcessBus alike. The bus
 * must redeliver a failed event after ~50 ms (its default redelivery is set that way by the setup).
 */
export function eventBusContract(name: string, setup: () => Promise<ContractBus>): void {
  describe(`${name} (EventBus contract)`, () => {
    let harness: ContractBus;
    const open: EventSubscription[] = [];
    let testNumber = 0;

    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => {
      await Promise.all(open.map((s) => s.close()));
      await harness?.cleanup();
    });

    /** A subject space and durable name unique to one test. */
    const scope = () => {
      testNumber += 1;
      const root = `${harness.subjectPrefix}.case${testNumber}`;
      return { root, durable: `${name.replace(/\W/g, "_")}_case${testNumber}` };
    };

    const collect = async (durable: string, subjects: string | string[], onEvent?: (r: Received) => void) => {
      const received: Received[] = [];
      const subscription = await harness.bus.subscribe({
        durable,
        subjects,
        handler: (event, context) => {
          onEvent?.({ event, context });
          received.push({ event, context });
        },
      });
      open.push(subscription);
      return { received, subscription };
    };

    it("delivers a published event to a subscriber, intact", async () => {
      const { root, durable } = scope();
      const { received } = await collect(durable, `${root}.inventory.job.finished`);
      const event = createEvent({
        subject: `${root}.inventory.job.finished`,
        domainId: "domain-1",
        data: { job_id: "job-1", counts: { created: 2 }, tags: ["a"] },
      });

      expect(harness.bus.isConnected()).toBe(true);
      expect(await harness.bus.publish(event)).toEqual({ duplicate: false });

      await waitFor(() => received.length === 1, 5_000, "the event");
      expect(received[0].event).toEqual(event);
      expect(received[0].context).toEqual({ durable, attempt: 1, redelivered: false });
    });

    it("matches wildcard subjects", async () => {
      const { root, durable } = scope();
      const { received } = await collect(durable, [`${root}.inventory.*.created`, `${root}.cost.>`]);
      const subjects = [
        `${root}.inventory.job.created`,
        `${root}.inventory.job.deleted`,
        `${root}.inventory.job.task.created`,
        `${root}.cost.budget.exceeded`,
        `${root}.cost.data.job.finished`,
        `${root}.monitoring.alert.created`,
      ];
      for (const subject of subjects) await harness.bus.publish(createEvent({ subject, data: {} }));

      await waitFor(() => received.length >= 3, 5_000, "three matching events");
      await settle();
      expect(received.map((r) => r.event.subject)).toEqual([
        `${root}.inventory.job.created`,
        `${root}.cost.budget.exceeded`,
        `${root}.cost.data.job.finished`,
      ]);
    });

    it("delivers in publish order and gives every durable its own copy", async () => {
      const { root, durable } = scope();
      const first = await collect(`${durable}_a`, `${root}.>`);
      const second = await collect(`${durable}_b`, `${root}.>`);
      const events = Array.from({ length: 5 }, (_, i) => createEvent({ subject: `${root}.job.step`, data: { i } }));
      for (const event of events) await harness.bus.publish(event);

      await waitFor(() => first.received.length === 5 && second.received.length === 5, 5_000, "five events each");
      await settle();
      expect(first.received.map((r) => r.event.id)).toEqual(events.map((e) => e.id));
      expect(second.received.map((r) => r.event.id)).toEqual(events.map((e) => e.id));
    });

    it("resumes a durable where it left off after resubscribing", async () => {
      const { root, durable } = scope();
      const subject = `${root}.job.finished`;
      const before = createEvent({ subject, data: { n: 1 } });
      const first = await collect(durable, subject);
      await harness.bus.publish(before);
      await waitFor(() => first.received.length === 1, 5_000, "the first event");
      await first.subscription.close();

      const missed = [createEvent({ subject, data: { n: 2 } }), createEvent({ subject, data: { n: 3 } })];
      for (const event of missed) await harness.bus.publish(event);
      await settle(100);
      expect(first.received).toHaveLength(1);

      const again = await collect(durable, subject);
      await waitFor(() => again.received.length === 2, 5_000, "the events published while away");
      await settle();
      expect(again.received.map((r) => r.event.id)).toEqual(missed.map((e) => e.id));
    });

    it("redelivers an event whose handler threw", async () => {
      const { root, durable } = scope();
      const subject = `${root}.job.finished`;
      const attempts: DeliveryContext[] = [];
      const subscription = await harness.bus.subscribe({
        durable,
        subjects: subject,
        handler: (_event, context) => {
          attempts.push(context);
          if (context.attempt === 1) throw new Error("transient failure");
        },
      });
      open.push(subscription);

      await harness.bus.publish(createEvent({ subject, data: {} }));

      await waitFor(() => attempts.length === 2, 5_000, "a redelivery");
      await settle();
      expect(attempts).toEqual([
        { durable, attempt: 1, redelivered: false },
        { durable, attempt: 2, redelivered: true },
      ]);
    });

    it("drops a second publish of the same event id", async () => {
      const { root, durable } = scope();
      const subject = `${root}.job.finished`;
      const { received } = await collect(durable, subject);
      const event = createEvent({ subject, data: { once: true } });

      expect(await harness.bus.publish(event)).toEqual({ duplicate: false });
      expect(await harness.bus.publish({ ...event })).toEqual({ duplicate: true });

      await waitFor(() => received.length === 1, 5_000, "the event");
      await settle(500);
      expect(received).toHaveLength(1);
    });

    it("resolves caughtUp once the events retained before subscribing were handled", async () => {
      const { root, durable } = scope();
      const subject = `${root}.identity.user.disabled`;
      const backlog = Array.from({ length: 300 }, (_, i) => createEvent({ subject, data: { i } }));
      for (const event of backlog) await harness.bus.publish(event);
      // Another subject after the backlog: "caught up" must not wait for an event it never receives.
      await harness.bus.publish(createEvent({ subject: `${root}.other.thing.happened`, data: {} }));

      const handled: number[] = [];
      const subscription = await harness.bus.subscribe<{ i: number }>({
        durable,
        subjects: subject,
        deliverPolicy: "all",
        inactiveThresholdMs: 60_000,
        prefetch: 500,
        handler: (event) => void handled.push(event.data.i),
      });
      open.push(subscription);
      await subscription.caughtUp;
      expect(handled).toEqual(backlog.map((_, i) => i));
    });

    it("resolves caughtUp at once for a durable delivering new events, and rejects it on a close before", async () => {
      const { root, durable } = scope();
      const subject = `${root}.job.step`;
      await harness.bus.publish(createEvent({ subject, data: {} }));
      const fresh = await harness.bus.subscribe({ durable: `${durable}_new`, subjects: subject, deliverPolicy: "new", handler: () => {} });
      open.push(fresh);
      await expect(fresh.caughtUp).resolves.toBeUndefined();

      let release!: () => void;
      const blocked = new Promise<void>((resolve) => (release = resolve));
      const stuck = await harness.bus.subscribe({ durable: `${durable}_stuck`, subjects: subject, handler: () => blocked });
      const closing = stuck.close();
      release();
      await closing;
      await expect(stuck.caughtUp).rejects.toThrow(/closed before it caught up/);
    });

    it("rejects an event that cannot go on the wire", async () => {
      const { root } = scope();
      await expect(
        harness.bus.publish({ id: "not-a-uuid", subject: `${root}.x.y`, occurredAt: new Date().toISOString(), data: {} }),
      ).rejects.toThrow(/UUID/);
      await expect(harness.bus.publish(createEvent({ subject: `${root}.x.y`, data: { n: 1n } }))).rejects.toThrow(
        /JSON/,
      );
    });
  });
}
