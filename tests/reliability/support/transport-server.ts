// A service port in a process of its own, for the hostile-transport tests that must watch a
// separate process: its memory under an attack, and that it survives an exception nothing caught.
// Prints {"ready": url, "pid": n} on stdout once listening; logs (pino JSON) go to stdout too.
import { authenticateFailure } from "@cloudforet/errors";
import { EchoService } from "@cloudforet/proto/cloudforet/testing/v1/echo_pb";
import {
  authInterceptor,
  authenticationGate,
  createLogger,
  installLastResortHandlers,
  readServiceConfig,
  sendJson,
  startServer,
  type Caller,
  type TokenVerifier,
} from "@cloudforet/runtime";

const logger = createLogger("transport-test", "info");
installLastResortHandlers(logger);

/** "good" is the one valid token. */
const caller: Caller = { domainId: "domain-test", userId: "tester", workspaceIds: [], domainAdmin: true, roles: [] };
const verify: TokenVerifier = async (token) => {
  if (token !== "good") throw authenticateFailure("Invalid or expired token", { reason: "malformed" });
  return caller;
};

// The gate and the interceptor sharing one verification, as the service host wires them.


// The transport limits from the environment, as a service reads them (CLOUDFORET_*).
const config = readServiceConfig("transport-test", 0, { ...process.env, TRANSPORT_TEST_ADDR: "127.0.0.1:0" });
const server = await startServer({
  name: "transport-test",
  domain: "cloudforet.testing.v1",
  host: config.host,
  port: config.port,
  services: [EchoService],
  logger,
  authenticate: authenticationGate(() => verify),
  interceptors: [authInterceptor(verify)],
  maxRequestBytes: config.maxRequestBytes,
  maxConcurrentStreams: config.maxConcurrentStreams,
  headersTimeoutMs: config.headersTimeoutMs,
  bodyTimeoutMs: config.bodyTimeoutMs,
  idleTimeoutMs: config.idleTimeoutMs,
  // Handler paths that go wrong outside any try: the process must log them and keep serving.
  http(req, res) {
    if (req.url === "/__throw") {
      setImmediate(() => {
        throw new Error("boom from a handler path");
      });
      sendJson(res, 202, { scheduled: "throw" });
      return true;
    }
    if (req.url === "/__reject") {
      void Promise.reject(new Error("rejection from a handler path"));
      sendJson(res, 202, { scheduled: "rejection" });
      return true;
    }
    return false;
  },
  routes(router) {
    router.service(EchoService, {
      async echo(req) {
        return { message: req.message };
      },
      async *echoStream(req) {
        for (let index = 0; index < req.count; index++) {
          if (req.intervalMs > 0) await new Promise((r) => setTimeout(r, req.intervalMs));
          yield { message: req.message, index };
        }
      },
      async count(requests) {
        let count = 0;
        for await (const _ of requests) count++;
        return { count };
      },
    });
  },
});
process.stdout.write(`${JSON.stringify({ ready: server.url, pid: process.pid })}\n`);
process.once("SIGTERM", () => void server.close(500).then(() => process.exit(0)));
