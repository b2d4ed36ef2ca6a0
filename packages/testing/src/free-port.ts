import { readFileSync } from "node:fs";
import net from "node:net";

/**
 * The lowest port the kernel hands out to outgoing connections (Linux's ip_local_port_range;
 * 32768 elsewhere). A port picked below it cannot be taken, between our check and the service's
 * bind, by one of the thousands of client sockets (Postgres, NATS, HTTP) the suite opens.
 */
function ephemeralLow(): number {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low && low > 12_000) return low;
  } catch {
    // not Linux: the IANA dynamic range starts at 49152, Linux's default at 32768
  }
  return 32_768;
}

const FIRST = 10_000;
const LAST = ephemeralLow() - 1;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on 127.0.0.1 right now, chosen at random below the ephemeral range so that no
 * outgoing connection takes it before the caller binds it (another test picking the same one is
 * the only race left: one in thousands of ports).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST));
    if (await bindable(port)) return port;
  }
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
