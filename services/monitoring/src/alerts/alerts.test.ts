import { describe, expect, it } from "vitest";
import type { AlertRow } from "../db/schema";
import { decideNotice, fingerprintOf, severityOf } from "./alerts";
import { parsePayload } from "./alert-webhook";

const now = Date.UTC(2026, 0, 15, 10, 0, 0);
const alert = (overrides: Partial<AlertRow>): AlertRow =>
  ({ alertId: "alert-1", state: "FIRING", channels: ["ops"], escalationStep: 0, firingNotified: false, resolvedNotified: false, silenced: false, ...overrides }) as AlertRow;
const policy = { steps: [{ channels: ["first"], wait_seconds: 0 }, { channels: ["second"], wait_seconds: 60 }], repeatCount: 0 };

describe("decideNotice", () => {
  it("notifies a new firing alert once, to its channels", () => {
    expect(decideNotice(alert({}), undefined, undefined, now)).toEqual({
      notice: { kind: "FIRING", channels: ["ops"], step: 0 },
      update: { firingNotified: true, silenced: false, nextNoticeAt: null },
    });
    expect(decideNotice(alert({ firingNotified: true }), undefined, undefined, now)).toEqual({ update: { silenced: false, nextNoticeAt: null } });
  });

  it("holds a silenced alert until its window ends", () => {
    expect(decideNotice(alert({}), undefined, now + 5000, now)).toEqual({ update: { silenced: true, nextNoticeAt: new Date(now + 5000) } });
  });

  it("walks an escalation policy step by step, and stops after the last", () => {
    const first = decideNotice(alert({ channels: [] }), policy, undefined, now);
    expect(first).toEqual({ notice: { kind: "FIRING", channels: ["first"], step: 1 }, update: { firingNotified: true, silenced: false, escalationStep: 1, nextNoticeAt: new Date(now + 60_000) } });
    const second = decideNotice(alert({ firingNotified: true, escalationStep: 1 }), policy, undefined, now);
    expect(second.notice).toEqual({ kind: "ESCALATION", channels: ["second"], step: 2 });
    expect(second.update.nextNoticeAt).toBeNull();
    expect(decideNotice(alert({ firingNotified: true, escalationStep: 2 }), policy, undefined, now).notice).toBeUndefined();
    expect(decideNotice(alert({ state: "ACKNOWLEDGED", firingNotified: true, escalationStep: 1 }), policy, undefined, now).notice).toBeUndefined();
  });

  it("sends one resolution to everyone notified, and none for an alert never notified", () => {
    expect(decideNotice(alert({ state: "RESOLVED", firingNotified: true, escalationStep: 2, channels: [] }), policy, undefined, now).notice).toEqual({ kind: "RESOLVED", channels: ["first", "second"], step: 2 });
    expect(decideNotice(alert({ state: "RESOLVED", firingNotified: true, resolvedNotified: true }), undefined, undefined, now).notice).toBeUndefined();
    expect(decideNotice(alert({ state: "RESOLVED" }), undefined, undefined, now).notice).toBeUndefined();
  });
});

describe("alert webhook payloads", () => {
  it("reads Alertmanager's format, with the group status as each alert's default", () => {
    const parsed = parsePayload({ version: "4", groupKey: "g", status: "resolved", receiver: "r", alerts: [{ labels: { alertname: "A", severity: "critical" }, fingerprint: "f1", endsAt: "2026-01-15T10:00:00Z" }] });
    expect(parsed.alertmanager).toBe(true);
    expect(parsed.alerts[0]).toMatchObject({ status: "resolved", title: "A", fingerprint: "f1", severity: "critical", endsAt: new Date("2026-01-15T10:00:00Z") });
  });

  it("reads a generic alert and fingerprints it by its labels", () => {
    const { alertmanager, alerts } = parsePayload({ title: "Disk", labels: { host: "a" } });
    expect(alertmanager).toBe(false);
    expect(alerts[0].fingerprint).toBe(fingerprintOf({ host: "a" }));
    expect(severityOf("page")).toBe("CRITICAL");
    expect(severityOf(undefined)).toBe("WARNING");
  });

  it("names the field at fault", () => {
    expect(() => parsePayload({ version: "3", alerts: [{ labels: { alertname: "A" } }] })).toThrow(/version/);
    expect(() => parsePayload({ alerts: [{ title: "x", labels: { a: 1 } }] })).toThrowError(expect.objectContaining({ metadata: expect.objectContaining({ parameter: "alerts[0].labels.a" }) }));
    expect(() => parsePayload([])).toThrow(/JSON object/);
  });
});
