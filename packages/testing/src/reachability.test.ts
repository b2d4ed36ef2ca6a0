import { describe, expect, it } from "vitest";
import net from "node:net";
import { connectTestNats, requireNats, requirePostgres } from "./reachability";

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("unreachable test backends", () => {
  it("names PostgreSQL, its address and DATABASE_URL", async () => {
    const port = await closedPort();
    await expect(requirePostgres(`postgres://postgres:secret@127.0.0.1:${port}/postgres`)).rejects.toThrow(
      new RegExp(`^PostgreSQL is not reachable at postgres://127\\.0\\.0\\.1:${port}/postgres .*set DATABASE_URL`),
    );
  });

  it("names NATS, its address and NATS_URL", async () => {
    const port = await closedPort();
    await expect(connectTestNats(`nats://127.0.0.1:${port}`)).rejects.toThrow(
      new RegExp(`^NATS is not reachable at nats://127\\.0\\.0\\.1:${port} .*set NATS_URL`),
    );
  });

  it("passes when both are up", async () => {
    await requirePostgres();
    await requireNats();
  });
});
