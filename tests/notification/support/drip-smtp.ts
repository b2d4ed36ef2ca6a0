import { createServer, type AddressInfo, type Socket } from "node:net";

/** One connection a drip server accepted: when it opened and (once it did) closed. */
export interface DripConnection {
  openedAt: number;
  closedAt?: number;
}

export interface DripSmtpServer {
  host: string;
  port: number;
  connections: DripConnection[];
  /** Connections open right now. */
  open(): number;
  close(): Promise<void>;
}

/**
 * A hostile SMTP server on node:net: it greets, then answers EHLO (and anything after) with an
 * endless multi-line "250-" reply, one line every `dripMs`. Every line resets an idle timeout, and
 * the reply never ends, so only an overall deadline gets a client out.
 */
export async function startDripSmtpServer(dripMs = 100): Promise<DripSmtpServer> {
  const connections: DripConnection[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const record: DripConnection = { openedAt: Date.now() };
    connections.push(record);
    sockets.add(socket);
    let timer: NodeJS.Timeout | undefined;
    socket.on("error", () => {});
    socket.on("close", () => {
      record.closedAt = Date.now();
      sockets.delete(socket);
      clearInterval(timer);
    });
    socket.write("220 drip.test ESMTP\r\n");
    socket.once("data", () => {
      let n = 0;
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(`250-drip line ${++n}\r\n`);
      }, dripMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: "127.0.0.1",
    port,
    connections,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
