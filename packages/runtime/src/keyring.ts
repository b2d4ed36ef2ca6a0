import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** One AES-256 key of a `kid:base64key,…` list (IDENTITY_SECRET_KEYS, NOTIFICATION_CREDENTIALS_KEYS). */
export interface AesKey {
  kid: string;
  key: Buffer;
}

/** A sealed value: which key sealed it, and base64(iv ‖ tag ‖ ciphertext). */
export interface Sealed {
  keyId: string;
  ciphertext: string;
}

const kidPattern = /^[A-Za-z0-9._-]{1,64}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Parses `kid1:base64key,kid2:base64key`, first key first. Error messages name the offending key
 * id, never key material, and complete a sentence that starts with the variable's name.
 */
export function parseKeyList(value: string): AesKey[] {
  const keys: AesKey[] = [];
  const entries = value.split(",").map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error("must list at least one kid:base64key");
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    const kid = colon > 0 ? entry.slice(0, colon) : "";
    if (!kidPattern.test(kid)) throw new Error(`entry ${index + 1} must be kid:base64key with a key id of letters, digits, . _ or -`);
    if (keys.some((k) => k.kid === kid)) throw new Error(`names key id "${kid}" twice`);
    const encoded = entry.slice(colon + 1);
    const key = Buffer.from(encoded, "base64");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length !== 32) {
      throw new Error(`key "${kid}" must be 32 bytes, base64-encoded (e.g. openssl rand -base64 32)`);
    }
    keys.push({ kid, key });
  });
  return keys;
}

/**
 * AES-256-GCM with a key id per sealed value: the first key seals, every key opens, so a new key
 * can be put first while values sealed with an older one stay readable. `context` (e.g. the row's
 * id) is bound as associated data, so a ciphertext copied onto another row does not open there.
 */
export class Keyring {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: AesKey[]) {
    if (keys.length === 0) throw new Error("a keyring needs at least one key");
    this.byId = new Map(keys.map((k) => [k.kid, k.key]));
  }

  get activeKeyId(): string {
    return this.keys[0].kid;
  }

  has(keyId: string): boolean {
    return this.byId.has(keyId);
  }

  seal(plaintext: string, context: string): Sealed {
    const { kid, key } = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return { keyId: kid, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64") };
  }

  /** Throws when the key id is unknown (the message says so) or the ciphertext was tampered with. */
  open(sealed: Sealed, context: string): string {
    const key = this.byId.get(sealed.keyId);
    if (!key) throw new UnknownKeyError(sealed.keyId);
    const raw = Buffer.from(sealed.ciphertext, "base64");
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
  }
}

export class UnknownKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`key "${keyId}" is not in the keyring`);
    this.name = "UnknownKeyError";
  }
}

/**
 * The embedded mode's key: generated once into `file` (mode 0600) as `<kid>:<key>` and read back on
 * every later start. Processes racing to create it agree on the first write: a reader that finds
 * the file still being written retries briefly.
 */
export async function loadOrCreateKeyFile(file: string, kid: string): Promise<{ keys: AesKey[]; file: string; created: boolean }> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  let created = false;
  try {
    await writeFile(file, `${kid}:${randomBytes(32).toString("base64")}\n`, { flag: "wx", mode: 0o600 });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  for (let tries = 0; ; tries++) {
    const content = (await readFile(file, "utf8")).trim();
    try {
      return { keys: parseKeyList(content), file, created };
    } catch (err) {
      if (tries >= 20) throw new Error(`the key file ${file} is damaged (${(err as Error).message})`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
