import { BlockList, isIP } from "node:net";
import { createContextKey, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";

/**
 * The address of the client that sent the call: the TCP peer as the listener saw it, or, when that
 * peer is a trusted proxy (CLOUDFORET_TRUSTED_PROXIES, e.g. the console's gateway), the nearest
 * untrusted address in the X-Forwarded-For the proxies appended. A client reaching the port directly
 * cannot choose it with a header (login throttling keys on it).
 */
export const peerAddressKey = createContextKey<string>("unknown", { description: "remote address of the calling client" });

/** Addresses and CIDR ranges whose X-Forwarded-For is believed; empty trusts no one. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  /** `entries`: IPv4/IPv6 addresses or CIDR ranges (`10.0.0.0/8`); throws naming a bad one. */
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      const [address, bits, extra] = entry.split("/");
      const family = isIP(address ?? "");
      const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
      if (!family || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
        throw new Error(`not an IP address or CIDR range: "${entry}"`);
      }
      this.list.addSubnet(address!, prefix, family === 6 ? "ipv6" : "ipv4");
    }
    this.size = entries.length;
  }

  trusts(address: string): boolean {
    if (this.size === 0) return false;
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 6 ? "ipv6" : "ipv4");
  }
}

const unmapped = (address: string) => (address.startsWith("::ffff:") ? address.slice(7) : address);

/**
 * The client's address: walks X-Forwarded-For from the right past trusted proxies, starting at the
 * TCP peer; stops at the first address not trusted (or malformed, which is never trusted).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: TrustedProxies): string | undefined {
  if (!peer) return undefined;
  let address = unmapped(peer);
  if (!trusted.trusts(address) || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",").map((hop) => unmapped(hop.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return address;
    address = hop;
    if (!trusted.trusts(hop)) return hop;
  }
  return address;
}

/** Context values every call starts with: the address of its client. */
export function peerContextValues(trusted: TrustedProxies = new TrustedProxies()) {
  return (req: { socket?: { remoteAddress?: string } | null; headers?: Record<string, string | string[] | undefined> }): ContextValues => {
    const values = createContextValues();
    const address = clientAddress(req.socket?.remoteAddress, req.headers?.["x-forwarded-for"], trusted);
    if (address) values.set(peerAddressKey, address);
    return values;
  };
}

/** The calling client's address ("unknown" when the transport did not say). */
export function peerAddressOf(ctx: Pick<HandlerContext, "values">): string {
  return ctx.values.get(peerAddressKey);
}
