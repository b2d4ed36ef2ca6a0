import path from "node:path";
import { describe, expect, it } from "vitest";
import { consoleSettings } from "./settings";

describe("console gateway settings", () => {
  it("reads CONSOLE_ADDR, CONSOLE_DIST_DIR and every <SERVICE>_URL, with defaults", () => {
    const defaults = consoleSettings({}, "/app/apps/console/server");
    expect(defaults).toMatchObject({ host: "0.0.0.0", port: 8090, distDir: path.resolve("/app/apps/console/dist") });
    expect(defaults.services).toMatchObject({ identity: "http://127.0.0.1:50051", "cloud-service": "http://127.0.0.1:50053", orchestration: "http://127.0.0.1:50057" });

    const set = consoleSettings({ CONSOLE_ADDR: "[::]:9000", CONSOLE_DIST_DIR: "/srv/console", CLOUD_SERVICE_URL: "http://cloud-service:50053" });
    expect(set).toMatchObject({ host: "::", port: 9000, distDir: "/srv/console" });
    expect(set.services["cloud-service"]).toBe("http://cloud-service:50053");
  });

  it("refuses an address that is not host:port", () => {
    expect(() => consoleSettings({ CONSOLE_ADDR: "8090" })).toThrow(/host:port/);
    expect(() => consoleSettings({ CONSOLE_ADDR: "0.0.0.0:http" })).toThrow(/host:port/);
  });
});
