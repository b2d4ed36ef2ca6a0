import { createHash } from "node:crypto";
import type { ChannelSettings } from "../channels/channel-settings";

/** A destination: the unit of circuit breaking and of per-endpoint concurrency. */
export interface Endpoint {
  /** Stable and opaque (a Slack webhook URL is itself a secret, so URLs are hashed). */
  key: string;
  /** Safe to log: the URL's origin or the SMTP server. */
  label: string;
}

export function endpointOf(settings: ChannelSettings): Endpoint {
  if (settings.type === "EMAIL") {
    const server = `${settings.host.toLowerCase()}:${settings.port}`;
    return { key: `smtp:${server}`, label: `smtp://${server}` };
  }
  const url = new URL(settings.url);
  const digest = createHash("sha256").update(`${url.origin}${url.pathname}${url.search}`).digest("hex").slice(0, 32);
  return { key: `http:${digest}`, label: url.origin };
}
