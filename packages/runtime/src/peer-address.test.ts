import { describe, expect, it } from "vitest";
import { TrustedProxies, clientAddress, peerAddressKey, peerContextValues } from "./peer-address";

describe("clientAddress", () => {
  const gateway = new TrustedProxies(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);

  it("is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientAddress("::ffff:203.0.113.9", "198.51.100.1", new TrustedProxies())).toBe("203.0.113.9");
  });

  it("is the nearest untrusted hop behind trusted proxies; a client cannot prepend its way in", () => {
    expect(clientAddress("127.0.0.1", "198.51.100.1", gateway)).toBe("198.51.100.1");
    expect(clientAddress("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3", gateway)).toBe("198.51.100.1");
    expect(clientAddress("::ffff:10.0.0.5", ["1.1.1.1", "fd00::1"], gateway)).toBe("1.1.1.1");
  });

  it("stops at a malformed hop and keeps the last address it trusted the path to", () => {
    expect(clientAddress("127.0.0.1", "198.51.100.1, not-an-ip", gateway)).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", undefined, gateway)).toBe("127.0.0.1");
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    expect(clientAddress("203.0.113.9", "127.0.0.1", gateway)).toBe("203.0.113.9");
  });

  it("refuses entries that are neither addresses nor CIDR ranges", () => {
    expect(() => new TrustedProxies(["10.0.0.0/33"])).toThrow(/10\.0\.0\.0\/33/);
    expect(() => new TrustedProxies(["gateway"])).toThrow(/gateway/);
  });

  it("sets the call's peer address from the request", () => {
    const values = peerContextValues(gateway)({ socket: { remoteAddress: "127.0.0.1" }, headers: { "x-forwarded-for": "198.51.100.7" } });
    expect(values.get(peerAddressKey)).toBe("198.51.100.7");
  });
});
