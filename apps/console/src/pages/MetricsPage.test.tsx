// @vitest-environment jsdom
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { MetricService, MetricServiceGetDataRequest_Stat as Stat } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { renderSignedIn } from "../test/signed-in";

afterEach(cleanup);

describe("Metrics page", () => {
  it("charts each resource's series over the chosen window and statistic, from the URL", async () => {
    const asked: { resourceIds: string[]; metricName: string; period: number; stat: Stat; seconds: number }[] = [];
    const user = await renderSignedIn("/metrics?r=vm-1&m=cpu.utilization", (router) =>
      router.service(MetricService, {
        getData(req) {
          const seconds = Number(timestampDate(req.end!).getTime() - timestampDate(req.start!).getTime()) / 1000;
          asked.push({ resourceIds: req.resourceIds, metricName: req.metricName, period: req.period, stat: req.stat, seconds });
          const t0 = timestampDate(req.start!).getTime();
          return { series: req.resourceIds.map((id) => ({ resourceId: id, points: [0, 1, 2].map((i) => ({ timestamp: timestampFromMs(t0 + i * req.period * 1000), value: 10 + i })) })) };
        },
        query: () => ({ results: [{ metricName: "cpu.utilization" }, { metricName: "memory.used" }] }),
      }),
    );
    const chart = await screen.findByRole("img", { name: "cpu.utilization avg of vm-1 over the last hour" });
    expect(chart.querySelectorAll("rect")).toHaveLength(3);
    const series = screen.getByRole("region", { name: "Series of vm-1" });
    expect(within(series).getByText(/latest 12\.00 · min 10\.00 · max 12\.00/)).toBeTruthy();
    expect(asked.at(-1)).toMatchObject({ resourceIds: ["vm-1"], metricName: "cpu.utilization", period: 60, stat: Stat.AVG, seconds: 3600 });

    await user.selectOptions(screen.getByLabelText("Window"), "24h");
    await user.selectOptions(screen.getByLabelText("Statistic"), "MAX");
    await screen.findByRole("img", { name: "cpu.utilization max of vm-1 over the last 24 hours" });
    expect(asked.at(-1)).toMatchObject({ period: 900, stat: Stat.MAX, seconds: 86_400 });

    const resources = screen.getByLabelText("Resource ids");
    await user.clear(resources);
    await user.type(resources, "vm-1, vm-2");
    await user.click(screen.getByRole("button", { name: "Show" }));
    await screen.findByRole("region", { name: "Series of vm-2" });
    expect(asked.at(-1)?.resourceIds).toEqual(["vm-1", "vm-2"]);
    await waitFor(() => expect(document.querySelectorAll("#metric-names option")).toHaveLength(2));
  });

  it("asks for a resource and a metric first, and says when the window has no samples", async () => {
    let calls = 0;
    await renderSignedIn("/metrics", (router) =>
      router.service(MetricService, {
        getData: () => (calls++, { series: [{ resourceId: "vm-9", points: [] }] }),
        query: () => ({ results: [] }),
      }),
    );
    await screen.findByText("Choose a resource and a metric");
    expect(calls).toBe(0);
    cleanup();
    await renderSignedIn("/metrics?r=vm-9&m=disk.free", (router) =>
      router.service(MetricService, { getData: () => ({ series: [{ resourceId: "vm-9", points: [] }] }), query: () => ({ results: [] }) }),
    );
    await screen.findByText("No samples in this window");
  });
});
