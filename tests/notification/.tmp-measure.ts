import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { notificationModule } from "@cloudforet/notification";
import { startTestPlatform } from "../support/platform";
import { notificationTestEnv } from "./support/env";
import { startHttpReceiver } from "./support/receivers";

const hooks = await startHttpReceiver();
const platform = await startTestPlatform({ modules: [notificationModule], env: notificationTestEnv() });
try {
  const channels = platform.client(ChannelService);
  await channels.create({ name: "a", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/a` } });
  await channels.create({ name: "b", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/b` } });
  const client = platform.client(NotificationService);
  const N = Number(process.argv[2] ?? 500);
  const latencies: number[] = [];
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < N) {
      next++;
      const t = performance.now();
      await client.send({ title: "load", message: "m" });
      latencies.push(performance.now() - t);
    }
  }));
  const sendMs = Date.now() - started;
  while (hooks.requests.length < 2 * N) await new Promise((r) => setTimeout(r, 10));
  const totalMs = Date.now() - started;
  latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({ notifications: N, deliveries: 2 * N, send_rps: Math.round((N / sendMs) * 1000), send_p50_ms: latencies[N / 2].toFixed(1), send_p99_ms: latencies[Math.floor(N * 0.99)].toFixed(1), all_delivered_ms: totalMs, deliveries_per_s: Math.round((2 * N / totalMs) * 1000) }));
} finally {
  await platform.close();
  await hooks.close();
}
