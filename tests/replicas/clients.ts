import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bearer } from "../support/platform";

/** A Connect client of one replica, calling as the holder of `token`. */
export function replicaClient<S extends DescService>(service: S, baseUrl: string, token: string): Client<S> {
  return createClient(service, createConnectTransport({ baseUrl, httpVersion: "2", interceptors: [bearer(token)] }));
}

/** "ok", or the Connect code name of the error a call ended with. */
export async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (err) {
    return Code[ConnectError.from(err).code];
  }
}
