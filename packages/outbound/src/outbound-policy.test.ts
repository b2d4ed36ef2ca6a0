import { describe, expect, it } from "vitest";
import { ErrorCode, PlatformError } from "@cloudforet/errors";
import { isForbiddenAddress } from "./address-ranges";
import { OutboundError } from "./outbound-error";
import { OutboundPolicy } from "./outbound-policy";
import { redactUrl, redactUrlsIn } from "./redact-url";

describe("forbidden address ranges", () => {
  it.each([
    "127.0.0.1", "127.255.0.9", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.255",
    "169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0", "fd00:ec2::254", "fc00::1", "0.0.0.0", "::", "224.0.0.1", "239.1.2.3", "ff02::1",
    "255.255.255.255",
    // IPv4-mapped, -compatible and NAT64 forms of the above
    "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "::ffff:10.0.0.1", "0:0:0:0:0:ffff:c0a8:0101", "64:ff9b::127.0.0.1", "::127.0.0.1",
    "[::1]", "not-an-ip",
  ])("refuses %s", (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
    expect(new OutboundPolicy().allowsAddress(address)).toBe(false);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"])("allows the public address %s", (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
    expect(new OutboundPolicy().allowsAddress(address)).toBe(true);
  });
});

describe("allowlist", () => {
  const policy = new OutboundPolicy({ allow: ["127.0.0.1/32", "::1", "10.20.0.0/16", "mail.internal", "*.corp.example"] });

  it("opens exactly the listed CIDRs, in IPv4-mapped form too", () => {
    expect(policy.allowsAddress("127.0.0.1")).toBe(true);
    expect(policy.allowsAddress("::ffff:127.0.0.1")).toBe(true);
    expect(policy.allowsAddress("::1")).toBe(true);
    expect(policy.allowsAddress("127.0.0.2")).toBe(false);
    expect(policy.allowsAddress("10.20.99.1")).toBe(true);
    expect(policy.allowsAddress("10.21.0.1")).toBe(false);
    expect(policy.allowsAddress("169.254.169.254")).toBe(false);
  });

  it("opens listed host names and wildcard suffixes", () => {
    expect(policy.allowsName("mail.internal")).toBe(true);
    expect(policy.allowsName("MAIL.internal.")).toBe(true);
    expect(policy.allowsName("smtp.corp.example")).toBe(true);
    expect(policy.allowsName("corp.example")).toBe(false);
    expect(policy.allowsName("other.internal")).toBe(false);
  });

  it("reads CLOUDFORET_OUTBOUND_* once, and rejects malformed entries", () => {
    const fromEnv = OutboundPolicy.fromEnv({ CLOUDFORET_OUTBOUND_ALLOW: " 127.0.0.1/32 , ::1,mail.internal", CLOUDFORET_OUTBOUND_MAX_RESPONSE_BYTES: "2048", CLOUDFORET_OUTBOUND_TIMEOUT_MS: "500" });
    expect(fromEnv.allowsAddress("127.0.0.1")).toBe(true);
    expect(fromEnv.allowsName("mail.internal")).toBe(true);
    expect(fromEnv.maxResponseBytes).toBe(2048);
    expect(fromEnv.timeoutMs).toBe(500);
    const defaults = OutboundPolicy.fromEnv({});
    expect(defaults.allowsAddress("127.0.0.1")).toBe(false);
    expect(defaults.maxResponseBytes).toBe(1024 * 1024);
    expect(defaults.timeoutMs).toBe(10_000);
    expect(() => OutboundPolicy.fromEnv({ CLOUDFORET_OUTBOUND_ALLOW: "10.0.0.0/33" })).toThrow(/not a valid CIDR/);
    expect(() => OutboundPolicy.fromEnv({ CLOUDFORET_OUTBOUND_ALLOW: "bad name!" })).toThrow(/neither a CIDR nor a host name/);
    expect(() => OutboundPolicy.fromEnv({ CLOUDFORET_OUTBOUND_TIMEOUT_MS: "-1" })).toThrow(/CLOUDFORET_OUTBOUND_TIMEOUT_MS/);
  });
});

describe("validation of stored URLs and hosts", () => {
  const policy = new OutboundPolicy();
  const invalid = (fn: () => void, parameter: string) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(PlatformError);
      expect((err as PlatformError).code).toBe(ErrorCode.INVALID_PARAMETER);
      expect((err as PlatformError).message).toContain(parameter);
      return;
    }
    throw new Error("expected INVALID_ARGUMENT");
  };

  it.each([
    "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:5432/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fd00:ec2::254]/",
    "http://2130706433/", "http://0x7f.1/", "http://localhost:8080/", "http://api.localhost/", "http://metadata.google.internal/", "http://10.0.0.5/",
  ])("refuses %s", (url) => invalid(() => policy.validateStoredUrl(url, "options.url"), "options.url"));

  it("accepts public names and addresses (names are judged again at connect time)", () => {
    expect(() => policy.validateStoredUrl("https://hooks.slack.com/services/x", "options.url")).not.toThrow();
    expect(() => policy.validateStoredUrl("http://8.8.8.8/", "options.url")).not.toThrow();
    expect(() => policy.validateStoredHost("smtp.example.com", "options.host")).not.toThrow();
  });

  it("judges bare SMTP hosts the same way", () => {
    invalid(() => policy.validateStoredHost("127.0.0.1", "options.host"), "options.host");
    invalid(() => policy.validateStoredHost("::1", "options.host"), "options.host");
    invalid(() => policy.validateStoredHost("localhost", "options.host"), "options.host");
  });

  it("lets an operator allowlist what would otherwise be refused", () => {
    const allowing = new OutboundPolicy({ allow: ["127.0.0.1/32", "localhost"] });
    expect(() => allowing.validateStoredUrl("http://127.0.0.1:9/", "options.url")).not.toThrow();
    expect(() => allowing.validateStoredUrl("http://localhost:9/", "options.url")).not.toThrow();
    invalid(() => allowing.validateStoredUrl("http://169.254.169.254/", "options.url"), "options.url");
  });
});

describe("connect-time lookup", () => {
  const resolving = (answers: Record<string, string[]>) =>
    new OutboundPolicy({ resolve: async (host) => (answers[host] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 })) });

  it("refuses a name resolving only to forbidden addresses, and drops forbidden ones from a mixed answer", async () => {
    const policy = resolving({ "evil.example": ["127.0.0.1", "::ffff:169.254.169.254"], "mixed.example": ["10.0.0.1", "93.184.216.34"] });
    await expect(policy.resolveAllowed("evil.example")).rejects.toMatchObject({ kind: "refused" });
    expect(await policy.resolveAllowed("mixed.example")).toEqual([{ address: "93.184.216.34", family: 4 }]);
    await expect(policy.resolveAllowed("nowhere.example")).rejects.toBeInstanceOf(OutboundError);
  });

  it("answers net's lookup in both the single and the `all` form", async () => {
    const policy = resolving({ "ok.example": ["93.184.216.34"], "bad.example": ["169.254.169.254"] });
    const call = (host: string, options: object) =>
      new Promise<unknown[]>((resolve) => policy.lookup(host, options as never, (...args: unknown[]) => resolve(args)));
    expect(await call("ok.example", {})).toEqual([null, "93.184.216.34", 4]);
    expect(await call("ok.example", { all: true })).toEqual([null, [{ address: "93.184.216.34", family: 4 }]]);
    const [err] = await call("bad.example", { all: true });
    expect(err).toMatchObject({ kind: "refused", message: "refused to connect to bad.example: the address is not allowed for outbound requests" });
  });
});

describe("redaction", () => {
  it("strips user:pass@ from URLs and from text", () => {
    expect(redactUrl("http://user:s3cret@example.com/a?b=1")).toBe("http://example.com/a?b=1");
    expect(redactUrl("https://example.com/")).toBe("https://example.com/");
    expect(redactUrlsIn("GET http://u:p@h.example/x failed; see https://a:b@c.example")).toBe("GET http://h.example/x failed; see https://c.example");
  });
});
