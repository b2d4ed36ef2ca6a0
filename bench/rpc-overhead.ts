// Unary calls/s and latency of a trivial RPC through our runtime (interceptors, logging, metrics,
// error mapping, the h1/h2c port) against a bare connect-node server (connectNodeAdapter on a plain
// h2c server: the same Connect machinery without ours, so the ratio is what the runtime adds), and,
// for reference, a bare @grpc/grpc-js server with the same method. All are driven by the same
// @grpc/grpc-js client over h2c; the sides alternate over several rounds so a noisy neighbour hurts
// them alike, and each side's median round counts.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  EchoService,
  EchoServiceEchoRequestSchema,
  EchoServiceEchoResponseSchema,
} from "@cloudforet/proto/cloudforet/testing/v1/echo_pb";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createLogger, startServer } from "@cloudforet/runtime";
import { grpcJsClient } from "@cloudforet/testing";
import { isQuick, quantile, report } from "./support/report";

const quick = isQuick();
const calls = quick ? 1_500 : 20_000;
const rounds = quick ? 3 : 5;
const concurrency = 32;
const discard = new Writable({ write: (_chunk, _enc, done) => done() });

async function drive(address: string): Promise<{ perSecond: number; p50: number; p99: number }> {
  const client = grpcJsClient(EchoService, address);
  const request = create(EchoServiceEchoRequestSchema, { message: "ping" });
  const call = () =>
    new Promise<number>((resolve, reject) => {
      const started = process.hrtime.bigint();
      client.echo(request, (err: Error | null) => (err ? reject(err) : resolve(Number(process.hrtime.bigint() - started) / 1e6)));
    });
  for (let i = 0; i < 200; i++) await call(); // warm up
  const latencies: number[] = [];
  let issued = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < calls) {
        issued++;
        latencies.push(await call());
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  client.close();
  return { perSecond: calls / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

async function bareGrpcServer(): Promise<{ address: string; close(): void }> {
  const server = new grpc.Server();
  server.addService(
    {
      echo: {
        path: "/cloudforet.testing.v1.EchoService/Echo",
        requestStream: false,
        responseStream: false,
        requestDeserialize: (bytes: Buffer) => fromBinary(EchoServiceEchoRequestSchema, bytes),
        requestSerialize: (value: unknown) => Buffer.from(toBinary(EchoServiceEchoRequestSchema, value as never)),
        responseSerialize: (value: unknown) => Buffer.from(toBinary(EchoServiceEchoResponseSchema, value as never)),
        responseDeserialize: (bytes: Buffer) => fromBinary(EchoServiceEchoResponseSchema, bytes),
      },
    },
    {
      echo: (call: grpc.ServerUnaryCall<{ message: string }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, create(EchoServiceEchoResponseSchema, { message: call.request.message })),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

const ours = await startServer({
  name: "bench",
  domain: "cloudforet.testing.v1",
  host: "127.0.0.1",
  port: 0,
  services: [EchoService],
  logger: createLogger("bench", "info", discard), // logging on, as in production
  routes(router) {
    router.service(EchoService, { echo: (req) => ({ message: req.message }) });
  },
});
async function bareConnectServer(): Promise<{ address: string; close(): void }> {
  const server = http2.createServer(
    connectNodeAdapter({ routes: (router) => router.service(EchoService, { echo: (req) => ({ message: req.message }) }) }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const median = <T extends { perSecond: number }>(runs: T[]): T => [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)];
const bare = await bareConnectServer();
const grpcJs = await bareGrpcServer();
const oursRuns = [];
const bareRuns = [];
const grpcRuns = [];
for (let round = 0; round < rounds; round++) {
  bareRuns.push(await drive(bare.address));
  oursRuns.push(await drive(ours.url.replace("http://", "")));
  grpcRuns.push(await drive(grpcJs.address));
}
const measured = median(oursRuns);
const baseline = median(bareRuns);
const reference = median(grpcRuns);
bare.close();
grpcJs.close();
await ours.close(1000);

report({
  name: "rpc-overhead",
  quick,
  rows: [
    { case: "ours: runtime Echo over h2c", value: measured.perSecond, unit: "calls/s", p50_ms: measured.p50, p99_ms: measured.p99, calls, concurrency },
    { case: "baseline: bare connect-node Echo over h2c", value: baseline.perSecond, unit: "calls/s", p50_ms: baseline.p50, p99_ms: baseline.p99, calls, concurrency },
    { case: "reference: bare @grpc/grpc-js Echo", value: reference.perSecond, unit: "calls/s", p50_ms: reference.p50, p99_ms: reference.p99, calls, concurrency, ours_ratio: measured.perSecond / reference.perSecond },
  ],
  ratio: measured.perSecond / baseline.perSecond,
  ratioMeaning: `ours / bare connect-node unary calls per second, median of ${rounds} alternating rounds; higher is better`,
});
