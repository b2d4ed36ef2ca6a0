import { jetstreamManager } from "@nats-io/jetstream";
import { testNatsUrl, uniqueSuffix } from "./environment";
import { connectTestNats } from "./reachability";

export interface TestStream {
  /** A JetStream stream name unique to this test file. */
  stream: string;
  /** The first subject token of this file's events, e.g. `t_k3x9…`; publish under `<subjectPrefix>.…`. */
  subjectPrefix: string;
  /** What the stream captures: `["<subjectPrefix>.>"]`. */
  subjects: string[];
  natsUrl: string;
  /** Deletes the stream (and with it its consumers); safe if it was never created. */
  cleanup(): Promise<void>;
}

/**
 * Names for an isolated JetStream stream and subject space for one test file, so files run in
 * parallel against the shared NATS server. The bus under test creates the stream; `cleanup()` in
 * afterAll deletes it. Fails with a clear message when NATS is down.
 */
export async function createTestStream(prefix = "t"): Promise<TestStream> {
  const natsUrl = testNatsUrl();
  const nc = await connectTestNats(natsUrl);
  await nc.close();
  const suffix = uniqueSuffix();
  const token = `${prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${suffix}`;
  const subjectPrefix = token;
  return {
    stream: token.toUpperCase(),
    subjectPrefix,
    subjects: [`${subjectPrefix}.>`],
    natsUrl,
    async cleanup() {
      const conn = await connectTestNats(natsUrl);
      try {
        const jsm = await jetstreamManager(conn);
        await jsm.streams.delete(token.toUpperCase()).catch(() => false);
      } finally {
        await conn.close();
      }
    },
  };
}
