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

/** A sealed value that does not open: its key is gone, it was tampered with, or it is malformed. */
export class UnreadableSealError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UnreadableSealError";
  }
}

const SEAL_FORMAT = "v1";

/**
 * A JSON value sealed for the row that keeps it, as one string `v1:<kid>:<base64>` (a column of its
 * own rather than a key id column beside it). `boundTo` (the row's id) is the associated data.
 * Messages name the keys' variable (e.g. NOTIFICATION_CREDENTIALS_KEYS), never the value.
 */
export class JsonSealer<T> {
  private readonly keyring: Keyring;

  constructor(
    keys: AesKey[],
    private readonly keysVariable: string,
  ) {
    this.keyring = new Keyring(keys);
  }

  seal(value: T, boundTo: string): string {
    const { keyId, ciphertext } = this.keyring.seal(JSON.stringify(value), boundTo);
    return `${SEAL_FORMAT}:${keyId}:${ciphertext}`;
  }

  /** Throws UnreadableSealError when the key is gone or the value was tampered with. */
  open(sealed: string, boundTo: string): T {
    const [format, kid, encoded] = sealed.split(":");
    if (format !== SEAL_FORMAT || !kid || !encoded) throw new UnreadableSealError("sealed value is malformed");
    try {
      return JSON.parse(this.keyring.open({ keyId: kid, ciphertext: encoded }, boundTo)) as T;
    } catch (err) {
      if (err instanceof UnknownKeyError) throw new UnreadableSealError(`sealed with key "${kid}", which ${this.keysVariable} no longer holds`);
      throw new UnreadableSealError("sealed value does not open with its key", { cause: err });
    }
  }
}
