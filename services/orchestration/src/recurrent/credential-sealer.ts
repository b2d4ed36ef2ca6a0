import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** One AES-256 key of ORCHESTRATION_CREDENTIALS_KEYS. */
export interface CredentialKey {
  kid: string;
  key: Buffer;
}

const KID = /^[A-Za-z0-9._-]{1,64}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = "v1";

/** Parses `kid:base64key[,kid:base64key…]` (first = sealing key); messages never hold key material. */
export function parseCredentialKeys(value: string): CredentialKey[] {
  const keys: CredentialKey[] = [];
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error("must list at least one kid:base64key");
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    const kid = colon > 0 ? entry.slice(0, colon) : "";
    if (!KID.test(kid)) throw new Error(`entry ${index + 1} must be kid:base64key`);
    if (keys.some((k) => k.kid === kid)) throw new Error(`names key id "${kid}" twice`);
    const encoded = entry.slice(colon + 1);
    const key = Buffer.from(encoded, "base64");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length !== 32) throw new Error(`key "${kid}" must be 32 bytes, base64-encoded (openssl rand -base64 32)`);
    keys.push({ kid, key });
  });
  return keys;
}

/**
 * Seals the credential headers of a recurrent request (AES-256-GCM). The request id is the
 * associated data, so a sealed value copied onto another row does not open there. The first key
 * seals; every key opens (rotation: put the new key first).
 */
export class CredentialSealer {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: CredentialKey[]) {
    if (keys.length === 0) throw new Error("a sealer needs at least one key");
    this.byId = new Map(keys.map((k) => [k.kid, k.key]));
  }

  seal(headers: Record<string, string>, boundTo: string): string {
    const { kid, key } = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(boundTo, "utf8"));
    const body = Buffer.concat([cipher.update(JSON.stringify(headers), "utf8"), cipher.final()]);
    return `${FORMAT}:${kid}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
  }

  /** Throws when the key is gone or the value was tampered with (the message names no secret). */
  open(sealed: string, boundTo: string): Record<string, string> {
    const [format, kid, encoded] = sealed.split(":");
    if (format !== FORMAT || !kid || !encoded) throw new Error("sealed credentials are malformed");
    const key = this.byId.get(kid);
    if (!key) throw new Error(`credentials were sealed with key "${kid}", which ORCHESTRATION_CREDENTIALS_KEYS no longer holds`);
    try {
      const raw = Buffer.from(encoded, "base64");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(boundTo, "utf8"));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return JSON.parse(Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8"));
    } catch {
      throw new Error("sealed credentials do not open with their key");
    }
  }
}

/**
 * The key when ORCHESTRATION_CREDENTIALS_KEYS is unset: generated on first start and kept (mode
 * 0600) under the data dir. Fine for one host; replicas on several hosts must share the variable.
 */
export async function loadOrCreateKeyFile(dataDir: string): Promise<CredentialKey[]> {
  const file = path.join(dataDir, "orchestration-credentials.key");
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, `local:${randomBytes(32).toString("base64")}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  // Another process may have just created it: read until it holds a whole key.
  for (let tries = 0; ; tries++) {
    try {
      return parseCredentialKeys((await readFile(file, "utf8")).trim());
    } catch (err) {
      if (tries >= 20) throw new Error(`${file} ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
