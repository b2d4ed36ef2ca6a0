import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SecretKeyring, embeddedSecretKeys, parseSecretKeys } from "./secret-keyring";

const entry = (kid: string) => `${kid}:${randomBytes(32).toString("base64")}`;

describe("parseSecretKeys", () => {
  it("reads kid:base64key pairs, first one first", () => {
    const keys = parseSecretKeys(`${entry("new")}, ${entry("old")}`);
    expect(keys.map((k) => k.kid)).toEqual(["new", "old"]);
    expect(keys.every((k) => k.key.length === 32)).toBe(true);
  });

  it("refuses short keys, bad ids, duplicates and emptiness without echoing key material", () => {
    const short = Buffer.alloc(16, 1).toString("base64");
    expect(() => parseSecretKeys(`k:${short}`)).toThrow('key "k" must be 32 bytes');
    try {
      parseSecretKeys(`k:${short}`);
    } catch (err) {
      expect((err as Error).message).not.toContain(short);
    }
    expect(() => parseSecretKeys(`:${randomBytes(32).toString("base64")}`)).toThrow("entry 1 must be kid:base64key");
    expect(() => parseSecretKeys("no-colon")).toThrow("entry 1");
    expect(() => parseSecretKeys(`${entry("a")},${entry("a")}`)).toThrow('names key id "a" twice');
    expect(() => parseSecretKeys(" , ")).toThrow("at least one");
    expect(() => parseSecretKeys("k:not base64 at all!!")).toThrow('key "k"');
  });
});

describe("SecretKeyring", () => {
  it("seals with the first key and opens with any listed key", () => {
    const [k1] = parseSecretKeys(entry("k1"));
    const [k2] = parseSecretKeys(entry("k2"));
    const sealed = new SecretKeyring([k1]).seal("plaintext value", "ctx");
    expect(sealed.keyId).toBe("k1");
    expect(Buffer.from(sealed.ciphertext, "base64").toString("utf8")).not.toContain("plaintext");
    const rotated = new SecretKeyring([k2, k1]);
    expect(rotated.open(sealed, "ctx")).toBe("plaintext value");
    expect(rotated.seal("x", "ctx").keyId).toBe("k2");
    expect(() => new SecretKeyring([k2]).open(sealed, "ctx")).toThrow('secret key "k1" is not in IDENTITY_SECRET_KEYS');
  });

  it("uses a fresh IV each time and refuses tampered ciphertext or another context", () => {
    const ring = new SecretKeyring(parseSecretKeys(entry("k")));
    const a = ring.seal("same", "ctx");
    const b = ring.seal("same", "ctx");
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(() => ring.open(a, "other-ctx")).toThrow();
    const raw = Buffer.from(a.ciphertext, "base64");
    raw[raw.length - 1] ^= 1;
    expect(() => ring.open({ keyId: "k", ciphertext: raw.toString("base64") }, "ctx")).toThrow();
  });
});

describe("embeddedSecretKeys", () => {
  it("creates the key file once (0600) and reads it back later", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "keyring-"));
    try {
      const [first, second] = await Promise.all([embeddedSecretKeys(dir), embeddedSecretKeys(dir)]);
      expect([first.created, second.created].filter(Boolean)).toHaveLength(1);
      expect(first.keys[0].key.equals(second.keys[0].key)).toBe(true);
      const again = await embeddedSecretKeys(dir);
      expect(again.created).toBe(false);
      expect(again.keys[0].kid).toBe(first.keys[0].kid);
      expect((await readFile(first.file, "utf8")).trim()).toMatch(/^embedded-[a-z0-9]+:[A-Za-z0-9+/]+=*$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
