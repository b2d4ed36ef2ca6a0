import { describe, expect, it } from "vitest";
import { PlatformError } from "@cloudforet/errors";
import { channelSettings, isEmailAddress, validateCredentials, validateOptions } from "./channel-settings";

const parameterOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof PlatformError)) throw err;
    return err.metadata.parameter;
  }
  throw new Error("expected an error");
};

describe("validateOptions", () => {
  it("normalizes what it accepts", () => {
    expect(validateOptions("WEBHOOK", { url: "https://hooks.example.com/x", method: "put", headers: { "X-A": "1" } })).toEqual({
      url: "https://hooks.example.com/x",
      method: "PUT",
      headers: { "X-A": "1" },
    });
    expect(validateOptions("EMAIL", { host: "smtp.example.com", from: "Ops <ops@example.com>", to: "a@example.com", port: 465, secure: true })).toEqual({
      host: "smtp.example.com",
      from: "Ops <ops@example.com>",
      to: ["a@example.com"],
      port: 465,
      secure: true,
    });
    expect(validateOptions("SLACK", {}, true)).toEqual({});
  });

  it("names the offending option", () => {
    expect(parameterOf(() => validateOptions("WEBHOOK", {}))).toBe("options.url");
    expect(parameterOf(() => validateOptions("WEBHOOK", { url: "javascript:alert(1)" }))).toBe("options.url");
    expect(parameterOf(() => validateOptions("WEBHOOK", { url: "http://x", headers: { "bad header": "v" } }))).toBe("options.headers.bad header");
    expect(parameterOf(() => validateOptions("WEBHOOK", { url: "http://x", headers: { "X-A": "line\nbreak" } }))).toBe("options.headers.X-A");
    expect(parameterOf(() => validateOptions("SLACK", { url: "http://x", token: "t" }))).toBe("options.token");
    expect(parameterOf(() => validateOptions("EMAIL", { host: "bad host!", from: "a@b.c" }))).toBe("options.host");
    expect(parameterOf(() => validateOptions("EMAIL", { host: "h", from: "a@b.c", port: 25.5 }))).toBe("options.port");
    expect(parameterOf(() => validateOptions("EMAIL", { host: "h", from: "a@b.c", secure: "yes" }))).toBe("options.secure");
  });
});

describe("validateCredentials", () => {
  it("wants the fields of the channel type and never echoes the data", () => {
    expect(() => validateCredentials("EMAIL", { username: "u", password: "p" }, "s-1")).not.toThrow();
    expect(parameterOf(() => validateCredentials("EMAIL", { username: "u" }, "s-1"))).toBe("secret_id");
    expect(parameterOf(() => validateCredentials("SLACK", { url: "not a url" }, "s-1"))).toBe("secret_id");
    expect(parameterOf(() => validateCredentials("WEBHOOK", { headers: "Authorization: x" }, "s-1"))).toBe("secret_id");
    try {
      validateCredentials("EMAIL", { username: "u", password: 42 }, "s-1");
    } catch (err) {
      expect(JSON.stringify({ message: (err as PlatformError).message, metadata: (err as PlatformError).metadata })).not.toContain("42");
    }
  });
});

describe("channelSettings", () => {
  it("merges the secret's data into the options", () => {
    expect(channelSettings("WEBHOOK", { url: "http://x", headers: { A: "1", Authorization: "from options" } }, { headers: { Authorization: "Bearer s" } })).toEqual({
      type: "WEBHOOK",
      url: "http://x",
      method: "POST",
      headers: { A: "1", Authorization: "Bearer s" },
    });
    expect(channelSettings("SLACK", { channel: "#ops" }, { url: "https://hooks.slack.com/services/T/B/X" })).toMatchObject({ url: "https://hooks.slack.com/services/T/B/X", channel: "#ops" });
    expect(channelSettings("EMAIL", { host: "h", from: "a@b.c" }, { username: "u", password: "p" })).toEqual({
      type: "EMAIL",
      host: "h",
      port: 587,
      secure: false,
      from: "a@b.c",
      to: [],
      auth: { user: "u", pass: "p" },
    });
    expect(channelSettings("EMAIL", { host: "h", from: "a@b.c", port: 465 }, undefined)).toMatchObject({ secure: true, port: 465 });
  });

  it("tells e-mail addresses from Slack channels", () => {
    expect(isEmailAddress("ops-team@company.com")).toBe(true);
    expect(isEmailAddress("#cloud-ops")).toBe(false);
    expect(isEmailAddress("not an address")).toBe(false);
  });
});
