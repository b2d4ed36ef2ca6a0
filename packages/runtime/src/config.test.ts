import { describe, expect, it } from "vitest";
import { ConfigError, readServiceConfig } from "./config";

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

  it("accepts IPv6 listen addresses", () => {
    expect(readServiceConfig("cost", 50054, { COST_ADDR: "[::]:50054" })).toMatchObject({ host: "::", port: 50054 });
  });
});
