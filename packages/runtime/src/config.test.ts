import { describe, expect, it } from "vitest";
import { ConfigError, readServiceConfig, readTransportLimits } from "./config";

describe("readServiceConfig", () => {
  it("uses the service's defaults when nothing is set (embedded mode)", () => {
    const config = readServiceConfig("cloud-service", 50053, {});
    expect(config).toMatchObject({ host: "0.0.0.0", port: 50053, databaseUrl: undefined, natsUrl: undefined, logLevel: "info", maxRequestBytes: 4194304 });
  });

  it("reads <SERVICE>_ADDR, the service's own database URL before DATABASE_URL, NATS_URL and LOG_LEVEL", () => {
    const config = readServiceConfig("cloud-service", 50053, {
      CLOUD_SERVICE_ADDR: "127.0.0.1:6000",
      CLOUD_SERVICE_DATABASE_URL: "postgres://own@db/x",
      DATABASE_URL: "postgres://shared@db/y",
      NATS_URL: "nats://nats:4222",
      LOG_LEVEL: "DEBUG",
    });
    expect(config).toMatchObject({ host: "127.0.0.1", port: 6000, databaseUrl: "postgres://own@db/x", natsUrl: "nats://nats:4222", logLevel: "debug" });
  });

  it("reports every problem at once, naming each variable", () => {
    let error: unknown;
    try {
      readServiceConfig("cost", 50054, { COST_ADDR: "localhost", DATABASE_URL: "mysql://x", NATS_URL: "::", LOG_LEVEL: "loud", CLOUDFORET_MAX_REQUEST_BYTES: "-1" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    for (const name of ["COST_ADDR", "DATABASE_URL", "NATS_URL", "LOG_LEVEL", "CLOUDFORET_MAX_REQUEST_BYTES"]) expect(problems).toContain(name);
  });

  it("sizes the database pool from DATABASE_POOL_SIZE (default 10) and refuses a bad one", () => {
    expect(readServiceConfig("cost", 50054, {})).toMatchObject({ databasePoolSize: 10, databaseIdleSeconds: 60 });
    expect(readServiceConfig("cost", 50054, { DATABASE_IDLE_TIMEOUT_SECONDS: "5" })).toMatchObject({ databaseIdleSeconds: 5 });
    expect(readServiceConfig("cost", 50054, { DATABASE_POOL_SIZE: "3" })).toMatchObject({ databasePoolSize: 3 });
    expect(() => readServiceConfig("cost", 50054, { DATABASE_POOL_SIZE: "0" })).toThrow(/DATABASE_POOL_SIZE/);
  });

  it("prepares recurring statements unless DATABASE_PREPARED_STATEMENTS is false, and names a bad value", () => {
    expect(readServiceConfig("cost", 50054, {})).toMatchObject({ databasePreparedStatements: true });
    expect(readServiceConfig("cost", 50054, { DATABASE_PREPARED_STATEMENTS: "false" })).toMatchObject({ databasePreparedStatements: false });
    expect(readServiceConfig("cost", 50054, { DATABASE_PREPARED_STATEMENTS: "off" })).toMatchObject({ databasePreparedStatements: false });
    expect(() => readServiceConfig("cost", 50054, { DATABASE_PREPARED_STATEMENTS: "sometimes" })).toThrow(/DATABASE_PREPARED_STATEMENTS must be true or false/);
  });

  it("reads CLOUDFORET_TRUSTED_PROXIES and names a bad entry", () => {
    expect(readServiceConfig("cost", 50054, { CLOUDFORET_TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8" }).trustedProxies.trusts("10.2.3.4")).toBe(true);
    expect(readServiceConfig("cost", 50054, {}).trustedProxies.trusts("127.0.0.1")).toBe(false);
    expect(() => readServiceConfig("cost", 50054, { CLOUDFORET_TRUSTED_PROXIES: "10.0.0.0/99" })).toThrow(/CLOUDFORET_TRUSTED_PROXIES/);
  });

  it("accepts IPv6 listen addresses", () => {
    expect(readServiceConfig("cost", 50054, { COST_ADDR: "[::]:50054" })).toMatchObject({ host: "::", port: 50054 });
  });

  it("reads the transport limits, with their defaults", () => {
    expect(readServiceConfig("cost", 50054, {})).toMatchObject({
      maxRequestBytes: 4 * 1024 * 1024,
      maxConcurrentStreams: 100,
      headersTimeoutMs: 10_000,
      bodyTimeoutMs: 30_000,
      idleTimeoutMs: 65_000,
    });
    const env = {
      CLOUDFORET_MAX_REQUEST_BYTES: "1048576",
      CLOUDFORET_MAX_CONCURRENT_STREAMS: "20",
      CLOUDFORET_HEADERS_TIMEOUT_MS: "5000",
      CLOUDFORET_BODY_TIMEOUT_MS: "15000",
      CLOUDFORET_IDLE_TIMEOUT_MS: "30000",
    };
    const limits = { maxRequestBytes: 1048576, maxConcurrentStreams: 20, headersTimeoutMs: 5000, bodyTimeoutMs: 15000, idleTimeoutMs: 30000 };
    expect(readServiceConfig("cost", 50054, env)).toMatchObject(limits);
    expect(readTransportLimits(env)).toEqual(limits);
  });

  it("refuses transport limits that are not positive integers or out of range, naming each", () => {
    const bad = {
      CLOUDFORET_MAX_CONCURRENT_STREAMS: "0",
      CLOUDFORET_HEADERS_TIMEOUT_MS: "soon",
      CLOUDFORET_BODY_TIMEOUT_MS: "1.5",
      CLOUDFORET_IDLE_TIMEOUT_MS: "9999999999",
      CLOUDFORET_MAX_REQUEST_BYTES: "99999999999",
    };
    for (const read of [() => readServiceConfig("cost", 50054, bad), () => readTransportLimits(bad)]) {
      let error: unknown;
      try {
        read();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join("\n");
      for (const name of Object.keys(bad)) expect(problems).toContain(name);
    }
  });
});
