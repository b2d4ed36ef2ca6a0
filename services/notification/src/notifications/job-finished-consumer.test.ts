import pino from "pino";
import { describe, expect, it } from "vitest";
import { createEvent, type EventBus, type EventHandler, type ProcessedEventStore, type SubscribeOptions } from "@cloudforet/events";
import type { NotificationRow } from "../db/schema";
import { consumeJobFinished, JOB_FINISHED_CONSUMER, JOB_FINISHED_SUBJECT, jobFinishedNotification, parseJobFinished } from "./job-finished-consumer";
import type { NotificationSender } from "./notification-sender";

const seedJob = {
  job_id: "job-1",
  collector_id: "collector-nutanix-001",
  collector_name: "Nutanix Plugin",
  domain_id: "domain-default",
  status: "FINISHED",
  created_count: 300,
  updated_count: 150,
  deleted_count: 7,
  error_count: 3,
};

describe("jobFinishedNotification", () => {
  it("says what seed 000 says", () => {
    expect(jobFinishedNotification(seedJob)).toEqual({
      title: "Collection Complete: Nutanix Plugin",
      message: "Successfully collected 450 resources. 3 errors occurred.",
      severity: "WARNING",
      notificationType: "SYSTEM",
      tags: { collector_id: "collector-nutanix-001", job_id: "job-1", resource_count: "450", error_count: "3" },
      channels: [],
      recipients: [],
    });
  });

  it("is INFO without errors, ERROR for a failed or timed-out job, and keeps the job's own tags", () => {
    expect(jobFinishedNotification({ ...seedJob, error_count: 0, created_count: 1, updated_count: 0 })).toMatchObject({ severity: "INFO", message: "Successfully collected 1 resource." });
    expect(jobFinishedNotification({ ...seedJob, status: "TIMEOUT", error_count: 1 })).toMatchObject({
      title: "Collection Timed Out: Nutanix Plugin",
      severity: "ERROR",
      message: "Collected 450 resources before the job ended TIMEOUT. 1 error occurred.",
    });
    expect(jobFinishedNotification({ ...seedJob, tags: { provider: "nutanix", job_id: "spoofed" } }).tags).toMatchObject({ provider: "nutanix", job_id: "job-1" });
  });
});

describe("parseJobFinished", () => {
  it("accepts the documented shape and refuses anything else", () => {
    expect(parseJobFinished(seedJob)).toMatchObject({ job_id: "job-1", error_count: 3 });
    expect(parseJobFinished({ job_id: "j", collector_id: "c" })).toMatchObject({ created_count: 0, status: "FINISHED" });
    expect(parseJobFinished({ ...seedJob, error_count: -1 })).toBeUndefined();
    expect(parseJobFinished({ ...seedJob, created_count: Number.NaN })).toBeUndefined();
    expect(parseJobFinished({ ...seedJob, job_id: "" })).toBeUndefined();
    expect(parseJobFinished("job")).toBeUndefined();
    expect(parseJobFinished(null)).toBeUndefined();
  });
});

describe("consumeJobFinished", () => {
  it("subscribes one durable to the subject and sends once per event id, however often it arrives", async () => {
    let subscribed: SubscribeOptions<unknown> | undefined;
    const bus = {
      subscribe: async (options: SubscribeOptions<unknown>) => {
        subscribed = options;
        return { durable: options.durable, close: async () => {} };
      },
    } as unknown as EventBus;
    const seen = new Set<string>();
    const processed: ProcessedEventStore = {
      async runOnce(consumer, eventId, work) {
        if (seen.has(`${consumer}/${eventId}`)) return { duplicate: true };
        const result = await work({} as never);
        seen.add(`${consumer}/${eventId}`);
        return { duplicate: false, result };
      },
    };
    const sent: unknown[] = [];
    const sender = { send: async (input: unknown, options: unknown) => (sent.push({ input, options }), { notificationId: "notif-1" } as NotificationRow) } as unknown as NotificationSender;
    let commits = 0;
    await consumeJobFinished({ bus, processed, sender, afterCommit: () => commits++, logger: pino({ level: "silent" }) });
    expect(subscribed).toMatchObject({ durable: JOB_FINISHED_CONSUMER, subjects: JOB_FINISHED_SUBJECT });

    const handler = subscribed!.handler as EventHandler;
    const event = createEvent({ subject: JOB_FINISHED_SUBJECT, domainId: "domain-default", data: { ...seedJob, workspace_id: "ws-1" } });
    await handler(event, { durable: JOB_FINISHED_CONSUMER, attempt: 1, redelivered: false });
    await handler(event, { durable: JOB_FINISHED_CONSUMER, attempt: 2, redelivered: true });
    expect(sent).toHaveLength(1);
    expect(commits).toBe(1);
    expect(sent[0]).toMatchObject({ options: { domainId: "domain-default", workspaceId: "ws-1", channelScope: undefined } });

    await handler(createEvent({ subject: JOB_FINISHED_SUBJECT, data: { ...seedJob, domain_id: "" } }), { durable: JOB_FINISHED_CONSUMER, attempt: 1, redelivered: false });
    expect(sent).toHaveLength(1); // no domain: dropped
  });
});
