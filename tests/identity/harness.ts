import { randomBytes } from "node:crypto";
import type { ClientSessionOptions } from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { decodeError, type DecodedError } from "@cloudforet/errors";
import { acquireSharedInProcessBus, type PlatformEvent } from "@cloudforet/events";
import { identityModule } from "@cloudforet/identity";
import { createLogger, startService, type RunningService } from "@cloudforet/runtime";
import { createTestDatabase, secretCanary, type TestDatabase } from "@cloudforet/testing";
import postgres from "postgres";
import { expect } from "vitest";
import { bearer, loginAs } from "../support/identity";

/** A canary (packages/testing), so the secrets sweep would find it in any table or log line. */
export const ADMIN_PASSWORD = secretCanary("admin_password");

/** A fresh `kid:base64key` entry for IDENTITY_SECRET_KEYS. */
export const secretKeyEntry = (kid: string) => `${kid}:${randomBytes(32).toString("base64")}`;

export interface IdentityHarness {
  url: string;
  env: Record<string, string>;
  database: TestDatabase;
  /** Raw SQL on the identity database, to look at rows as they are stored. */
  sql: postgres.Sql;
  /** The bootstrap administrator's token. */
  adminToken: string;
  /** A client of identity, calling with `token` (none: anonymous). */
  client<S extends DescService>(service: S, token?: string): Client<S>;
  /**
   * A client whose connection comes from `localAddress` (any 127.x.y.z works on Linux), so a test can
   * be two clients on two addresses, as login throttling sees them.
   */
  clientFrom<S extends DescService>(service: S, localAddress: string, token?: string): Client<S>;
  /** Stops and starts identity again on the same database, with some variables changed. */
  restart(changes?: Record<string, string | undefined>): Promise<void>;
  close(): Promise<void>;
}

/** Starts identity in this process on a database of its own (real Postgres) and logs the admin in. */
export async function startIdentity(extraEnv: Record<string, string> = {}): Promise<IdentityHarness> {
  const database = await createTestDatabase("identity");
  let env: Record<string, string> = {
    DATABASE_URL: database.url,
    IDENTITY_ADDR: "127.0.0.1:0",
    LOG_LEVEL: "silent",
    CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    IDENTITY_SECRET_KEYS: secretKeyEntry("k1"),
    ...extraEnv,
  };
  let service: RunningService = await startService(identityModule, env);
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const harness: IdentityHarness = {
    url: service.url,
    env,
    database,
    sql,
    adminToken: await loginAs(service.url, "domain-default", "admin", ADMIN_PASSWORD),
    client(desc, token) {
      return createClient(desc, createConnectTransport({ baseUrl: harness.url, httpVersion: "2", interceptors: token ? [bearer(token)] : [] }));
    },
    clientFrom(desc, localAddress, token) {
      return createClient(
        desc,
        createConnectTransport({ baseUrl: harness.url, httpVersion: "2", nodeOptions: fromAddress(localAddress), interceptors: token ? [bearer(token)] : [] }),
      );
    },
    async restart(changes = {}) {
      await service.close();
      env = { ...env };
      for (const [name, value] of Object.entries(changes)) {
        if (value === undefined) delete env[name];
        else env[name] = value;
      }
      harness.env = env;
      service = await startService(identityModule, env);
      harness.url = service.url;
    },
    async close() {
      await service.close();
      await sql.end();
      await database.drop();
    },
  };
  return harness;
}

/**
 * Transport node options that bind the client's side of the connection to `localAddress`.
 * http2.connect hands its options to net.connect, which honours localAddress; Node's typings of
 * ClientSessionOptions just do not list it.
 */
export const fromAddress = (localAddress: string) => ({ localAddress }) as ClientSessionOptions;

/** The decoded taxonomy error of a call that must fail. */
export function failure(promise: Promise<unknown>): Promise<DecodedError> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err) => decodeError(err),
  );
}

/** Collects identity's events from the in-process bus (identity runs without NATS_URL in these tests). */
export async function collectIdentityEvents(durable: string): Promise<PlatformEvent[]> {
  const events: PlatformEvent[] = [];
  const bus = acquireSharedInProcessBus({ logger: createLogger("test", "silent") });
  await bus.subscribe({ durable, subjects: "cloudforet.identity.>", handler: (event) => void events.push(event) });
  return events;
}

/** A string value for a query filter. */
export const str = (value: string) => ({ kind: { case: "stringValue" as const, value } });

/** One Connect-protocol JSON call (as curl makes it); the body as text and parsed. */
export async function postJson(baseUrl: string, method: string, body: unknown, token?: string): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/cloudforet.identity.v1.${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}
