// docker-compose.yml: the one image for every service, SERVICE and the port variables consistent, and
// `docker-compose config` accepting the file (no engine needed; `bash scripts/install-docker-compose.sh`
// installs the binary, as CI does).
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ports = { identity: 50051, inventory: 50052, "cloud-service": 50053, cost: 50054, monitoring: 50055, notification: 50056, orchestration: 50057 };
const keys = { IDENTITY_SECRET_KEYS: "main:x", INVENTORY_CREDENTIALS_KEYS: "main:x", NOTIFICATION_CREDENTIALS_KEYS: "main:x", ORCHESTRATION_CREDENTIALS_KEYS: "main:x", CLOUDFORET_ADMIN_PASSWORD: "change-me" };
const hasCompose = spawnSync("docker-compose", ["version"], { stdio: "ignore" }).status === 0;

describe("docker-compose.yml", () => {
  it("has docker-compose to validate with", () => {
    expect(hasCompose, "docker-compose is not installed: bash scripts/install-docker-compose.sh").toBe(true);
  });

  it("docker-compose config accepts it, and every service runs the one image with its own SERVICE and port", () => {
    const config = parse(execFileSync("docker-compose", ["config"], { cwd: root, env: { ...process.env, ...keys }, encoding: "utf8" })) as { services: Record<string, { image: string; environment: Record<string, string> }> };
    for (const [name, port] of Object.entries(ports)) {
      const service = config.services[name];
      expect(service.image, name).toBe("cloudforet-ts:latest");
      expect(service.environment.SERVICE).toBe(name);
      expect(service.environment.HEALTH_PORT).toBe(String(port));
      expect(service.environment[`${name.toUpperCase().replaceAll("-", "_")}_ADDR`]).toBe(`0.0.0.0:${port}`);
    }
  });

  it("refuses to start without the keys, naming the variable", () => {
    const env = { ...process.env };
    for (const name of Object.keys(keys)) delete env[name];
    const result = spawnSync("docker-compose", ["config", "-q"], { cwd: root, env, encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/set (CLOUDFORET_ADMIN_PASSWORD|IDENTITY_SECRET_KEYS|\w+_CREDENTIALS_KEYS)/);
  });

  it("the services not built by compose reuse the image the identity service builds", () => {
    const file = parse(readFileSync(path.join(root, "docker-compose.yml"), "utf8"), { merge: true }) as { services: Record<string, { build?: { args: { SERVICE: string } } }> };
    expect(Object.entries(file.services).filter(([, s]) => s.build).map(([name]) => name)).toEqual(["identity"]);
  });
});
