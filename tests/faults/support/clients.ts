import { fromJson, type DescService, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";

export const ADMIN_PASSWORD = "Faults-Admin-Passw0rd";
/** Identity's secret encryption key (tests only). */
export const IDENTITY_SECRET_KEYS = `faults:${Buffer.alloc(32, 9).toString("base64")}`;

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };

/**
 * A Connect client (HTTP/2) of `service` at `baseUrl`. Every call has a deadline, so a call that
 * a killed process never answers fails (and is retried) instead of hanging.
 */
export function clientFor<S extends DescService>(service: S, baseUrl: string, token?: string): Client<S> {
  return createClient(
    service,
    createConnectTransport({ baseUrl, httpVersion: "2", interceptors: token ? [bearer(token)] : [], defaultTimeoutMs: 15_000 }),
  );
}

/** Logs the bootstrap administrator of domain-default in; resolves to the access token. */
export async function loginAdmin(identityUrl: string): Promise<string> {
  const { token } = await clientFor(AuthService, identityUrl).login({ domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD });
  return token;
}

/** A query filter value (google.protobuf.Value) from plain JSON. */
export const value = (json: JsonValue) => fromJson(ValueSchema, json);
