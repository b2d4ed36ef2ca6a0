import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CredentialSealer, CredentialsUnreadableError, credentialKeyFile, parseCredentialKeys } from "./credential-sealer";

const key = (kid: string) => ({ kid, key: randomBytes(32) });

describe("CredentialSealer", () => {
  it("seals to the channel: the value opens for that channel only, and never shows the plaintext", () => {
    const sealer = new CredentialSealer([key("k1")]);
    const sealed = sealer.seal({ username: "u", password: "hunter2" }, "ch-1");
    expect(sealed).toMatch(/^v1:k1:/);
    expect(sealed).not.toContain("hunter2");
    expect(sealer.open(sealed, "ch-1")).toEqual({ username: "u", password: "hunter2" });
    expect(() => sealer.open(sealed, "ch-2")).toThrow(CredentialsUnreadableError);
    const tampered = sealed.slice(0, -4) + (sealed.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(() => sealer.open(tampered, "ch-1")).toThrow(CredentialsUnreadableError);
  });

  it("rotates: a new first key seals, the old one still opens; a dropped key is reported by id", () => {
    const old = key("old");
    const sealedWithOld = new CredentialSealer([old]).seal({ a: 1 }, "ch-1");
    const rotated = new CredentialSealer([key("new"), old]);
    expect(rotated.open(sealedWithOld, "ch-1")).toEqual({ a: 1 });
    expect(rotated.seal({ a: 1 }, "ch-1")).toMatch(/^v1:new:/);
    expect(() => new CredentialSealer([key("other")]).open(sealedWithOld, "ch-1")).toThrow(/key "old"/);
  });

  it("parses NOTIFICATION_CREDENTIALS_KEYS and names bad entries without their material", () => {
    const b64 = randomBytes(32).toString("base64");
    expect(parseCredentialKeys(`a:${b64}, b:${b64}`).map((k) => k.kid)).toEqual(["a", "b"]);
    expect(() => parseCredentialKeys(`a:${randomBytes(16).toString("base64")}`)).toThrow(/key "a" must be 32 bytes/);
    expect(() => parseCredentialKeys(`a:${b64},a:${b64}`)).toThrow(/twice/);
    expect(() => parseCredentialKeys(b64)).toThrow(/kid:base64key/);
  });

  it("keeps one generated key per data dir, readable only by its owner", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "notification-keys-"));
    try {
      const [first, second] = await Promise.all([credentialKeyFile(dir), credentialKeyFile(dir)]);
      expect(first[0].key.equals(second[0].key)).toBe(true);
      const file = path.join(dir, "notification-credentials.key");
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await readFile(file, "utf8")).startsWith("local:")).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
