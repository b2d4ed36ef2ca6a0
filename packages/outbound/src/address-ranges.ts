import { BlockList, isIP } from "node:net";

/**
 * Address ranges no outbound request may reach unless an operator allowlists them: everything
 * that is "this host", "this network" or infrastructure rather than the public internet.
 */
const FORBIDDEN_V4: [string, number][] = [
  ["0.0.0.0", 8], // unspecified / "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, incl. the cloud metadata address 169.254.169.254
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, incl. broadcast
];

const FORBIDDEN_V6: [string, number][] = [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["100::", 64], // discard-only
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated, still routed by some stacks)
  ["fc00::", 7], // unique local, incl. the AWS metadata address fd00:ec2::254
  ["ff00::", 8], // multicast
];

export const forbiddenRanges: BlockList = (() => {
  const list = new BlockList();
  for (const [net, prefix] of FORBIDDEN_V4) list.addSubnet(net, prefix, "ipv4");
  for (const [net, prefix] of FORBIDDEN_V6) list.addSubnet(net, prefix, "ipv6");
  return list;
})();

/** The 16 bytes of an IPv6 address (any textual form, zone id dropped). */
function ipv6Bytes(address: string): number[] | undefined {
  let text = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const bytes: number[] = [];
  // A trailing dotted IPv4 (::ffff:1.2.3.4) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1].split(".").map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((parts[0] << 8) | parts[1]).toString(16)}:${((parts[2] << 8) | parts[3]).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const groups = (s: string | undefined) => (s ? s.split(":") : []);
  const h = groups(head);
  const t = groups(tail);
  const missing = text.includes("::") ? 8 - h.length - t.length : 0;
  const all = [...h, ...Array<string>(missing).fill("0"), ...t];
  if (all.length !== 8) return undefined;
  for (const g of all) {
    const v = parseInt(g, 16);
    if (!/^[0-9a-fA-F]{1,4}$/.test(g) || Number.isNaN(v)) return undefined;
    bytes.push(v >> 8, v & 0xff);
  }
  return bytes;
}

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d). Such addresses reach the IPv4 host, so
 * they are judged as that host.
 */
export function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4;
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return v4;
  // ::a.b.c.d, but not :: and ::1 themselves (judged as IPv6).
  if (zeros(0, 12) && !(b[12] === 0 && b[13] === 0 && b[14] === 0 && b[15] <= 1)) return v4;
  return undefined;
}

/** The address as the family it really reaches: "ipv4"/"ipv6" and its text; undefined if not an IP. */
export function normalizeAddress(address: string): { address: string; family: "ipv4" | "ipv6" } | undefined {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const version = isIP(bare);
  if (version === 4) return { address: bare, family: "ipv4" };
  if (version !== 6) return undefined;
  const v4 = embeddedIpv4(bare);
  return v4 ? { address: v4, family: "ipv4" } : { address: bare, family: "ipv6" };
}

/** True when the address is loopback, link-local, private, CGNAT, unspecified, multicast or reserved. */
export function isForbiddenAddress(address: string): boolean {
  const normalized = normalizeAddress(address);
  if (!normalized) return true; // not an address at all: never connect to it
  return forbiddenRanges.check(normalized.address, normalized.family);
}
