import { ConfigError } from "@cloudforet/runtime";
import { describe, expect, it } from "vitest";
import { readInventoryConfig } from "./config";

const KEY = `k1:${Buffer.alloc(32, 7).toString("base64")}`;

describe("INVENTORY_CREDENTIALS_KEYS", () => {
  it("is required with DATABASE_URL: replicas must seal pull credentials with one shared key", () => {
    let error: unknown;
    try {
      readInventoryConfig({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^INVENTORY_CREDENTIALS_KEYS is required when DATABASE_URL is set/)]);
  });

  it("is required with INVENTORY_DATABASE_URL too", () => {
    expect(() => readInventoryConfig({ INVENTORY_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres" })).toThrow(/INVENTORY_CREDENTIALS_KEYS is required/);
  });

  it("is optional in the embedded mode (no DATABASE_URL), which keeps a key file under the data dir", () => {
    expect(readInventoryConfig({}).credentialKeys).toBeUndefined();
  });

  it("is parsed when set", () => {
    expect(readInventoryConfig({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres", INVENTORY_CREDENTIALS_KEYS: KEY }).credentialKeys).toHaveLength(1);
  });
});

describe("plugin and upsert message limits", () => {
  it("default to 4 MiB messages and 64 KiB Init metadata", () => {
    expect(readInventoryConfig({})).toMatchObject({ pluginMaxMessageBytes: 4 * 1024 * 1024, pluginMetadataMaxBytes: 64 * 1024, upsertMaxMessageBytes: 4 * 1024 * 1024 });
  });

  it("are validated at start, naming every bad variable", () => {
    let error: unknown;
    try {
      readInventoryConfig({ INVENTORY_PLUGIN_MAX_MESSAGE_BYTES: "unbounded", INVENTORY_PLUGIN_METADATA_MAX_BYTES: "0", INVENTORY_UPSERT_MAX_MESSAGE_BYTES: "10" });
    } catch (err) {
      error = err;
    }
    expect((error as ConfigError).problems).toEqual([
      'INVENTORY_PLUGIN_MAX_MESSAGE_BYTES must be an integer from 65536 to 268435456, got "unbounded"',
      'INVENTORY_PLUGIN_METADATA_MAX_BYTES must be an integer from 1024 to 4194304, got "0"',
      'INVENTORY_UPSERT_MAX_MESSAGE_BYTES must be an integer from 65536 to 4294967295, got "10"',
    ]);
  });
});
