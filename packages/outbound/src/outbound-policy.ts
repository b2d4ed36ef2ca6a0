import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { invalidParameter } from "@cloudforet/errors";
import { forbiddenRanges, normalizeAddress } from "./address-ranges";
import { connectError, isOutboundError, refusedError } from "./outbound-error";
import { redactUrl } from "./redact-url";

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Resolves a host name to every address it has (the default is the system resolver, dns.lookup). */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

export interface OutboundPolicyOptions {
  /** Allowlisted CIDRs, IP addresses and host names ("127.0.0.1/32", "::1", "mail.internal", "*.corp.example"). */
  allow?: string[];
  /** Largest response body read (default 1 MiB). */
  maxResponseBytes?: number;
  /** Longest a request may take, connect to last byte (default 10 s); a caller may ask for less. */
  timeoutMs?: number;
  /** Resolver used at connect time (tests point names at chosen addresses). */
  resolve?: HostResolver;
}

/** Names that are internal whatever DNS says: refused when stored, unless allowlisted by name. */
const OBVIOUSLY_INTERNAL = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback|metadata|metadata\.google\.internal|instance-data)$|\.(localhost|internal)$/;

const systemResolver: HostResolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/**
 * The one outbound-request policy of the platform (README "Security"): no request made on a user's
 * behalf (http_request, webhooks, Slack, e-mail, recurrent requests, collector plugins) reaches
 * loopback, link-local, private, CGNAT, unspecified, multicast or metadata addresses, in IPv4 or any
 * IPv6 form that embeds one, unless an operator allowlists the range or the host name. Names are
 * judged after resolution, inside the connect (`lookup`), so there is no resolve-then-connect race.
 */
export class OutboundPolicy {
  readonly maxResponseBytes: number;
  readonly timeoutMs: number;
  private readonly allowedRanges = new BlockList();
  private readonly allowedNames = new Set<string>();
  private readonly allowedSuffixes: string[] = [];
  private readonly resolver: HostResolver;

  constructor(private readonly options: OutboundPolicyOptions = {}) {
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.resolver = options.resolve ?? systemResolver;
    for (const entry of options.allow ?? []) this.addAllowed(entry);
  }

  /**
   * CLOUDFORET_OUTBOUND_ALLOW (comma-separated CIDRs or host names, default none),
   * CLOUDFORET_OUTBOUND_MAX_RESPONSE_BYTES (default 1048576), CLOUDFORET_OUTBOUND_TIMEOUT_MS
   * (default 10000). Read once when a service starts; a malformed value fails the start.
   */
  static fromEnv(env: NodeJS.ProcessEnv): OutboundPolicy {
    const positive = (name: string, fallback: number) => {
      const raw = env[name];
      if (raw === undefined || raw === "") return fallback;
      const value = Number(raw);
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
      return value;
    };
    const allow = (env.CLOUDFORET_OUTBOUND_ALLOW ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    return new OutboundPolicy({
      allow,
      maxResponseBytes: positive("CLOUDFORET_OUTBOUND_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES),
      timeoutMs: positive("CLOUDFORET_OUTBOUND_TIMEOUT_MS", DEFAULT_TIMEOUT_MS),
    });
  }

  /**
   * The same policy with more allowlisted entries: for URLs an operator configured (the LLM
   * endpoint), never for URLs a user supplies.
   */
  withAllowed(entries: string[], caps: Pick<OutboundPolicyOptions, "timeoutMs" | "maxResponseBytes"> = {}): OutboundPolicy {
    return new OutboundPolicy({ ...this.options, ...caps, allow: [...(this.options.allow ?? []), ...entries] });
  }

  private addAllowed(entry: string): void {
    const [base, prefixText] = entry.split("/");
    const normalized = normalizeAddress(base);
    if (normalized) {
      const max = normalized.family === "ipv4" ? 32 : 128;
      // An IPv4-mapped entry with an IPv6 prefix length covers the IPv4 host it embeds.
      let prefix = prefixText === undefined ? max : Number(prefixText);
      if (normalized.family === "ipv4" && isIP(base.replace(/^\[|\]$/g, "")) === 6 && prefixText !== undefined) prefix -= 96;
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
        throw new Error(`CLOUDFORET_OUTBOUND_ALLOW: "${entry}" is not a valid CIDR`);
      }
      this.allowedRanges.addSubnet(normalized.address, prefix, normalized.family);
      return;
    }
    const name = entry.toLowerCase().replace(/\.$/, "");
    if (prefixText !== undefined || !/^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(name)) {
      throw new Error(`CLOUDFORET_OUTBOUND_ALLOW: "${entry}" is neither a CIDR nor a host name`);
    }
    if (name.startsWith("*.")) this.allowedSuffixes.push(name.slice(1));
    else this.allowedNames.add(name);
  }

  /** The operator allowlisted this host name (it may then resolve anywhere). */
  allowsName(hostname: string): boolean {
    const name = hostname.toLowerCase().replace(/\.$/, "");
    return this.allowedNames.has(name) || this.allowedSuffixes.some((suffix) => name.endsWith(suffix));
  }

  /** An address a request may connect to: public, or in an allowlisted range. */
  allowsAddress(address: string): boolean {
    const normalized = normalizeAddress(address);
    if (!normalized) return false;
    if (this.allowedRanges.check(normalized.address, normalized.family)) return true;
    return !forbiddenRanges.check(normalized.address, normalized.family);
  }

  /**
   * Up-front check of a URL's host before connecting: an IP literal is judged here (Node does not
   * call `lookup` for literals); a name is judged by `lookup` at connect time. Throws OutboundError.
   */
  checkHost(hostname: string): void {
    const bare = hostname.replace(/^\[|\]$/g, "");
    if (isIP(bare) && !this.allowsName(bare) && !this.allowsAddress(bare)) throw refusedError(bare);
  }

  /**
   * A `lookup` for net/tls/http/http2 that resolves the name and connects only to allowed addresses
   * (forbidden ones are dropped; none left → the connect fails with a refusal).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const wantAll = typeof options === "object" && options !== null && (options as { all?: boolean }).all === true;
    const family = typeof options === "number" ? options : typeof options === "object" && options !== null ? (options as { family?: number | string }).family : undefined;
    const done = callback as (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;
    this.resolveAllowed(hostname, family === 4 || family === "IPv4" ? 4 : family === 6 || family === "IPv6" ? 6 : 0).then(
      (addresses) => (wantAll ? done(null, addresses) : done(null, addresses[0].address, addresses[0].family)),
      (err: NodeJS.ErrnoException) => done(err),
    );
  };

  /** Every allowed address of a host (for SMTP: connect to one, with the name as TLS servername). */
  async resolveAllowed(hostname: string, family: 0 | 4 | 6 = 0): Promise<LookupAddress[]> {
    const bare = hostname.replace(/^\[|\]$/g, "");
    const literal = isIP(bare);
    if (literal) {
      this.checkHost(bare);
      return [{ address: bare, family: literal }];
    }
    let addresses: LookupAddress[];
    try {
      addresses = await this.resolver(bare);
    } catch (err) {
      if (isOutboundError(err)) throw err;
      throw connectError(bare);
    }
    if (family) addresses = addresses.filter((a) => a.family === family);
    if (addresses.length === 0) throw connectError(bare);
    if (this.allowsName(bare)) return addresses;
    const allowed = addresses.filter((a) => this.allowsAddress(a.address));
    if (allowed.length === 0) throw refusedError(bare);
    return allowed;
  }

  /**
   * Validation when a URL is stored (channels, recurrent requests, collectors): a forbidden literal
   * address or an obviously internal name → INVALID_ARGUMENT naming `parameter`. Other names are
   * judged at connect time. The URL must already be a parsed http(s) URL.
   */
  validateStoredUrl(url: URL | string, parameter: string): void {
    const parsed = typeof url === "string" ? new URL(url) : url;
    this.validateStoredHost(parsed.hostname, parameter, redactUrl(parsed.toString()).slice(0, 256));
  }

  /** The same for a bare host (an SMTP server). */
  validateStoredHost(host: string, parameter: string, shown = host.slice(0, 256)): void {
    let hostname: string;
    try {
      // The WHATWG parser normalizes every IPv4 spelling (2130706433, 0x7f.1) to dotted decimal.
      hostname = new URL(`http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}/`).hostname;
    } catch {
      throw invalidParameter(`${parameter} is not a valid host`, { parameter });
    }
    const bare = hostname.replace(/^\[|\]$/g, "");
    if (this.allowsName(bare)) return;
    if (isIP(bare) ? !this.allowsAddress(bare) : OBVIOUSLY_INTERNAL.test(bare.toLowerCase().replace(/\.$/, ""))) {
      throw invalidParameter(`${parameter} must not point at a loopback, private, link-local or metadata address`, { parameter, value: shown });
    }
  }
}
