// @vitest-environment jsdom
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CronService } from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import { InstanceService } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { Trigger_TriggerType, TriggerService } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { cleanup, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { renderSignedIn } from "../../test/signed-in";

afterEach(cleanup);

describe("Workflows: cron schedules and triggers", () => {
  it("lists the tenant's cron schedules and triggers in their own tabs", async () => {
    const tenants: string[] = [];
    const user = await renderSignedIn("/workflows", (router) => {
      router.service(InstanceService, { list: () => ({ results: [], totalCount: 0 }) });
      router.service(CronService, {
        list: (req) => (
          tenants.push(req.tenantId),
          { results: [{ id: "cr-1", tenantId: req.tenantId, namespace: "default", sequenceId: "seq-nightly", cronExpr: "0 2 * * *", timezone: "Asia/Seoul", enabled: true, nextFireAt: timestampFromDate(new Date("2026-01-02T17:00:00Z")) }], totalCount: 1 }
        ),
      });
      router.service(TriggerService, {
        list: (req) => ({ results: [{ slug: "github-push", tenantId: req.tenantId, namespace: "default", sequenceName: "deploy", enabled: false, triggerType: Trigger_TriggerType.WEBHOOK }], totalCount: 1 }),
      });
    });
    await screen.findByText("No instances");
    await user.click(screen.getByRole("tab", { name: "Cron schedules" }));
    const crons = await screen.findByRole("table", { name: "Cron schedules" });
    expect(crons.textContent).toContain("0 2 * * *");
    expect(crons.textContent).toContain("Asia/Seoul");
    expect(crons.textContent).toContain("seq-nightly");
    expect(tenants.at(-1)).toBe("domain-default");
    expect(screen.queryByText("No instances")).toBeNull();

    await user.click(screen.getByRole("tab", { name: "Triggers" }));
    const triggers = await screen.findByRole("table", { name: "Triggers" });
    expect(triggers.textContent).toContain("github-push");
    expect(triggers.textContent).toContain("WEBHOOK");
    expect(triggers.textContent).toContain("deploy");
    await waitFor(() => expect(screen.getByRole("tab", { name: "Triggers" }).getAttribute("aria-selected")).toBe("true"));
  });
});
