import net from "node:net";

/** What a server did with a raw request. */
export interface RawExchange {
  /** Everything the server sent (latin1). */
  text: string;
  /** The server closed the connection before waitMs. */
  closed: boolean;
  /** Time until the close (or until the test gave up). */
  ms: number;
}

/**
 * Writes raw bytes (or nothing: null) on a fresh connection to host:port and collects the answer
 * until the server closes the connection or waitMs passes.
 */
export function rawExchange(url: string, data: string | Buffer | null, waitMs = 3000): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const started = Date.now();
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false, ms: Date.now() - started });
    }, waitMs);
    socket.on("data", (d) => (text += d.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: Date.now() - started });
    });
    if (data !== null) socket.write(data);
  });
}

/** The HTTP status of a raw answer (0 when there is none). */
export function statusOf(exchange: RawExchange): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(exchange.text)?.[1] ?? 0);
}

/** The JSON body of a raw answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function jsonBodyOf(exchange: RawExchange): any {
  return JSON.parse(exchange.text.slice(exchange.text.indexOf("\r\n\r\n") + 4));
}

/** The ErrorInfo reason of a Connect JSON error body. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const errorInfoReason = (body: any): string | undefined =>
  body?.details?.find((d: { type: string }) => d.type === "google.rpc.ErrorInfo")?.debug?.reason;
