import net from "node:net";

/**
 * A TCP proxy in front of Postgres that reads the frontend protocol as it passes and counts what a
 * client asks: each Sync (extended protocol) or simple Query is one round trip to the database; the
 * SQL of each one is recorded. Used to check that a call costs the statements it should and no more.
 */
export interface StatementCounter {
  /** `url` with host and port replaced by the proxy's. */
  url: string;
  /** Round trips seen so far (Syncs and simple Queries). */
  roundTrips(): number;
  /** The SQL of every executed statement so far, in order. */
  statements(): string[];
  /** Forgets what was counted. */
  reset(): void;
  close(): Promise<void>;
}

export async function startStatementCounter(url: string): Promise<StatementCounter> {
  const target = new URL(url);
  let roundTrips = 0;
  let executed: string[] = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const reader = new FrontendReader({
      onRoundTrip: () => roundTrips++,
      onStatement: (sql) => executed.push(sql),
    });
    client.on("data", (chunk) => {
      reader.push(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String((server.address() as net.AddressInfo).port);
  return {
    url: proxied.toString(),
    roundTrips: () => roundTrips,
    statements: () => [...executed],
    reset() {
      roundTrips = 0;
      executed = [];
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Splits one connection's client bytes into protocol messages (the first, the startup packet, has no type byte). */
class FrontendReader {
  private buffered = Buffer.alloc(0);
  private started = false;
  /** Prepared statement name → its SQL (postgres.js prepares once per connection, then only binds). */
  private readonly prepared = new Map<string, string>();
  /** The statement of the last Bind, reported at its Execute. */
  private bound = "";

  constructor(private readonly on: { onRoundTrip(): void; onStatement(sql: string): void }) {}

  push(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      if (!this.started) {
        if (this.buffered.length < 4) return;
        const length = this.buffered.readInt32BE(0);
        if (this.buffered.length < length) return;
        const code = this.buffered.readInt32BE(4);
        this.buffered = this.buffered.subarray(length);
        // An SSLRequest or GSSENCRequest is followed by the real startup packet.
        if (code !== 80877103 && code !== 80877104) this.started = true;
        continue;
      }
      if (this.buffered.length < 5) return;
      const length = this.buffered.readInt32BE(1);
      if (this.buffered.length < 1 + length) return;
      this.message(String.fromCharCode(this.buffered[0]), this.buffered.subarray(5, 1 + length));
      this.buffered = this.buffered.subarray(1 + length);
    }
  }

  private message(type: string, body: Buffer): void {
    if (type === "Q") {
      this.on.onRoundTrip();
      this.on.onStatement(cString(body, 0).text);
    } else if (type === "P") {
      const name = cString(body, 0);
      this.prepared.set(name.text, cString(body, name.next).text);
    } else if (type === "B") {
      const portal = cString(body, 0);
      this.bound = this.prepared.get(cString(body, portal.next).text) ?? "";
    } else if (type === "E") {
      this.on.onStatement(this.bound);
    } else if (type === "S") {
      this.on.onRoundTrip();
    }
  }
}

function cString(body: Buffer, from: number): { text: string; next: number } {
  const end = body.indexOf(0, from);
  return { text: body.toString("utf8", from, end), next: end + 1 };
}
