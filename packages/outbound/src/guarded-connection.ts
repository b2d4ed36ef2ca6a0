import { connect as netConnect, isIP, Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { Duplex } from "node:stream";
import { connectError, isOutboundError, refusedError } from "./outbound-error";
import type { OutboundPolicy } from "./outbound-policy";

/**
 * A `createConnection` for http2.connect (the gRPC plugin clients): connects only where the policy
 * allows (IP literals checked here, names in `lookup`), speaks h2 over TLS for https, and turns
 * any failure before the connection is up into the policy's generic texts, so an error never
 * tells an open port from a closed one.
 */
export function guardedConnection(policy: OutboundPolicy): (authority: URL) => Duplex {
  return (authority) => {
    const host = authority.hostname.replace(/^\[|\]$/g, "");
    const secure = authority.protocol === "https:";
    const port = Number(authority.port) || (secure ? 443 : 80);
    try {
      policy.checkHost(host);
    } catch (err) {
      const socket = new Socket();
      process.nextTick(() => socket.destroy(err as Error));
      return socket;
    }
    const socket = secure
      ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host, ALPNProtocols: ["h2"], lookup: policy.lookup })
      : netConnect({ host, port, lookup: policy.lookup });
    let connected = false;
    socket.once(secure ? "secureConnect" : "connect", () => (connected = true));
    const emit = socket.emit.bind(socket);
    socket.emit = ((event: string, ...args: unknown[]) => {
      if (event === "error" && !connected && !isOutboundError(args[0])) return emit("error", connectError(host));
      return emit(event, ...args);
    }) as typeof socket.emit;
    return socket;
  };
}


