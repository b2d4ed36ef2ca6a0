// Each test file gets its own NATS consumers on the shared stream: their names carry a prefix of its
// own (NATS_CONSUMER_PREFIX), so services of two files running at once each receive every event rather
// than taking each other's; and a new one starts at the file's start (NATS_CONSUMER_SINCE), not at the
// first event earlier runs left in the stream. Replicas a file starts (in-process, or spawned, which
// inherit both) share them and compete, as in production.
import { randomBytes } from "node:crypto";

process.env.NATS_CONSUMER_PREFIX = `t${randomBytes(4).toString("hex")}`;
// A second back: the broker's clock and ours may differ by a little.
process.env.NATS_CONSUMER_SINCE = new Date(Date.now() - 1_000).toISOString();
