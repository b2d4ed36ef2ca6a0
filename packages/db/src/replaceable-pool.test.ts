import net from "node:net";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabaseUrl } from "@cloudforet/testing";
import { openDatabase, type DatabaseHandle } from "./index";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/**
 * A TCP relay to Postgres that can freeze every connection open so far: bytes sent on them go
 * nowhere and nothing comes back, as on a half-open connection after a network cut. Connections
 * opened later pass normally.
 */
class FreezingRelay {
  private readonly open = new Set<net.Socket>();
  private readonly frozen = new WeakSet<net.Socket>();
  private readonly server: net.Server;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      this.open.add(client);
      const relay = (from: net.Socket, to: net.Socket) =>
        from.on("data", (chunk) => {
          if (!this.frozen.has(client)) to.write(chunk);
        });
      relay(client, upstream);
      relay(upstream, client);
      const close = () => {
        this.open.delete(client);
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  freezeAll(): number {
    for (const socket of this.open) this.frozen.add(socket);
    return this.open.size;
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("a pool whose connections all hang", () => {
  let relay: FreezingRelay;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    const url = new URL(testDatabaseUrl());
    relay = new FreezingRelay({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(await relay.listen());
    handle = await openDatabase({ url: url.toString(), schema: "pool_watch", logger, poolSize: 2, poolWatch: { pingDeadlineMs: 200, wedgedAfterMs: 1000 } });
  });
  afterAll(async () => {
    await handle?.close();
    await relay?.close();
  });

  it("is declared wedged by the ping and replaced; hanging queries fail as unavailable, new ones succeed", async () => {
    // Two pooled connections in use, then frozen with a query in flight on each.
    await Promise.all([handle.db.execute(sql`select pg_sleep(0.05)`), handle.db.execute(sql`select pg_sleep(0.05)`)]);
    expect(relay.freezeAll()).toBe(2);
    const hanging = handle.db.execute(sql`select 1 as one`);
    const hangingOutcome = hanging.then(
      () => "answered",
      (err: unknown) => (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code ?? String(err),
    );

    // Unready while the pool hangs and the wedge is young…
    await expect(handle.ping()).rejects.toThrow(/did not answer within 200 ms/);
    // …then, once it has hung past wedgedAfterMs and a connection of its own answers, replaced.
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (!ready && Date.now() < deadline) {
      ready = await handle.ping().then(
        () => true,
        () => false,
      );
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ready, "ready again without a restart").toBe(true);
    expect(await hangingOutcome).toBe("CONNECTION_DESTROYED");
    const rows = await handle.db.execute(sql`select 41 + 1 as answer`);
    expect(Array.from(rows as unknown as { answer: number }[])[0].answer).toBe(42);
    // A transaction works on the new pool too (drizzle's begin goes through the same client).
    const inTx = await handle.db.transaction(async (tx) => tx.execute(sql`select 7 as seven`));
    expect(Array.from(inTx as unknown as { seven: number }[])[0].seven).toBe(7);
  }, 30_000);

  it("keeps a healthy pool: a ping answered resets the clock", async () => {
    for (let i = 0; i < 5; i++) await expect(handle.ping()).resolves.toBeUndefined();
  });
});
