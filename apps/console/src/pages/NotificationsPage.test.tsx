// @vitest-environment jsdom
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { Notification_Severity, NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { renderSignedIn } from "../test/signed-in";

afterEach(cleanup);

const at = timestampFromDate(new Date("2026-01-02T03:04:05Z"));
const deliveries = [
  { channel: "ops-webhook", status: Delivery_Status.FAILED, attempt: 1, error: "HTTP 503 from the webhook", at },
  { channel: "ops-webhook", status: Delivery_Status.SUCCEEDED, attempt: 2, at },
  { channel: "ops-slack", status: Delivery_Status.FAILED, attempt: 1, error: "channel_not_found", at },
];

describe("Notifications page", () => {
  it("lists notifications with their delivery outcome, filters by severity, and opens the attempts", async () => {
    const queries: string[] = [];
    const read: string[][] = [];
    const user = await renderSignedIn("/notifications", (router) =>
      router.service(NotificationService, {
        list(req) {
          queries.push(JSON.stringify(req.query?.filter.map((f) => [f.k, f.v?.kind.value])));
          return { results: [{ notificationId: "nt-1", title: "Job finished with errors", severity: Notification_Severity.ERROR, deliveries, createdAt: at }], totalCount: 1 };
        },
        get: (req) => ({ notificationId: req.notificationId, title: "Job finished with errors", message: "3 errors in 450 resources", severity: Notification_Severity.ERROR, channels: ["ops-webhook", "ops-slack"], deliveries, createdAt: at }),
        markRead: (req) => (read.push(req.notificationIds), { updatedCount: 1 }),
      }),
    );
    const table = await screen.findByRole("table", { name: "Notifications" });
    expect(table.textContent).toContain("1 succeeded · 1 failed");
    expect(table.textContent).toContain("ERROR");

    await user.selectOptions(screen.getByLabelText("Severity"), "ERROR");
    await user.click(screen.getByLabelText("Unread only"));
    await waitFor(() => expect(queries.at(-1)).toBe(JSON.stringify([["severity", "ERROR"], ["is_read", false]])));

    await user.click(screen.getByRole("button", { name: "Job finished with errors" }));
    const drawer = await screen.findByRole("dialog", { name: "Job finished with errors" });
    const attempts = await within(drawer).findByRole("table", { name: "Delivery attempts" });
    expect(within(attempts).getAllByRole("row")).toHaveLength(4);
    expect(attempts.textContent).toContain("HTTP 503 from the webhook");
    expect(attempts.textContent).toContain("channel_not_found");
    await user.click(within(drawer).getByRole("button", { name: "Mark as read" }));
    await waitFor(() => expect(read).toEqual([["nt-1"]]));
  });

  it("says when there are none", async () => {
    await renderSignedIn("/notifications", (router) => router.service(NotificationService, { list: () => ({ results: [], totalCount: 0 }) }));
    await screen.findByText("No notifications");
  });
});
