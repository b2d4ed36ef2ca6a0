// A malicious collector plugin: a raw gRPC server (HTTP/2, hand-made frames) speaking
// cloudforet.inventory.plugin.v1.Collector, so it can send what no well-behaved SDK would: a 100 MB
// item, bad UTF-8, a Struct nested past protobuf's recursion limit, NUL bytes, a 60 KB error, a
// 1 MB Init metadata, another collector's resource id. The collector's options choose the attack.
// Runs as its own process (`node --import tsx tests/inventory/hostile-plugin.ts`), so the 100 MB it
// streams is not counted in the memory of the inventory under test; prints {"event":"ready","url":…}.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import {
  CollectorCollectRequestSchema,
  CollectorCollectResponse_State,
  CollectorCollectResponseSchema,
  CollectorInitRequestSchema,
  CollectorInitResponseSchema,
} from "@cloudforet/proto/cloudforet/inventory/plugin/v1/collector_pb";

const PREFIX = "/cloudforet.inventory.plugin.v1.Collector/";

function envelope(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.byteLength, 1);
  return Buffer.concat([header, payload]);
}

function vm(id: string, data: JsonObject = {}): JsonObject {
  return {
    cloud_service_type: "compute.Instance",
    cloud_service_group: "Nutanix",
    cloud_service_name: id,
    provider: "nutanix",
    data: { state: "ON", ...data },
    reference: { resource_id: id },
  };
}

function item(resource: JsonObject, state = CollectorCollectResponse_State.SUCCESS, message = ""): Uint8Array {
  return toBinary(CollectorCollectResponseSchema, create(CollectorCollectResponseSchema, { state, message, resourceType: "cloud_service.CloudService", resource }));
}

/** An item whose data holds a string of invalid UTF-8 (written over a marker of the same length). */
function badUtf8Item(id: string): Uint8Array {
  const marker = "BAD-UTF8-MARKER!";
  const bytes = Buffer.from(item(vm(id, { note: marker })));
  const at = bytes.indexOf(marker);
  bytes.fill(0xff, at, at + marker.length);
  return bytes;
}

function deepItem(id: string, depth: number): Uint8Array {
  let nested: JsonValue = "bottom";
  for (let i = 0; i < depth; i++) nested = { level: nested };
  return item(vm(id, { nested }));
}

async function write(stream: http2.ServerHttp2Stream, chunk: Buffer): Promise<boolean> {
  if (stream.destroyed || stream.closed) return false;
  if (!stream.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
    });
  }
  return !stream.destroyed && !stream.closed;
}

/** One huge item, streamed in 1 MiB pieces (so this process never holds it whole). */
async function writeHugeItem(stream: http2.ServerHttp2Stream, totalBytes: number): Promise<void> {
  // resource = Struct{fields: {"blob": Value{string_value: "aaa…"}}}, built by hand around the blob.
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Buffer.from(out);
  };
  const blob = totalBytes;
  const value = Buffer.concat([Buffer.from([0x1a]), varint(blob)]); // Value.string_value (3), then the blob
  const entryHead = Buffer.concat([Buffer.from([0x0a, 4]), Buffer.from("blob"), Buffer.from([0x12]), varint(value.length + blob)]);
  const structHead = Buffer.concat([Buffer.from([0x0a]), varint(entryHead.length + value.length + blob)]);
  const structLength = structHead.length + entryHead.length + value.length + blob;
  const responseHead = Buffer.concat([Buffer.from([0x2a]), varint(structLength), structHead, entryHead, value]);
  const messageLength = responseHead.length + blob;
  const header = Buffer.alloc(5);
  header.writeUInt32BE(messageLength, 1);
  if (!(await write(stream, Buffer.concat([header, responseHead])))) return;
  const piece = Buffer.alloc(1024 * 1024, "a");
  for (let sent = 0; sent < blob; sent += piece.length) {
    if (!(await write(stream, sent + piece.length <= blob ? piece : piece.subarray(0, blob - sent)))) return;
  }
}

async function collect(stream: http2.ServerHttp2Stream, options: JsonObject, taskOptions: JsonObject): Promise<{ status: number; message?: string }> {
  const account = String(taskOptions.service_account_id ?? "sa");
  const send = (payload: Uint8Array) => write(stream, envelope(payload));
  switch (options.attack) {
    case "huge_item": {
      await writeHugeItem(stream, Number(options.bytes));
      for (let i = 0; i < 3; i++) await send(item(vm(`after-huge-${account}-${i}`)));
      return { status: 0 };
    }
    case "large_item": {
      // Under the plugin message limit, over what one BatchUpsert message may carry.
      await send(item(vm(`before-large-${account}`)));
      await send(item(vm(`large-${account}`, { blob: "b".repeat(Number(options.bytes)) })));
      await send(item(vm(`after-large-${account}`)));
      return { status: 0 };
    }
    case "bad_items": {
      await send(item(vm(`good-${account}-0`)));
      await send(badUtf8Item(`bad-utf8-${account}`));
      await send(item(vm(`good-${account}-1`)));
      await send(deepItem(`too-deep-${account}`, 150));
      await send(item(vm(`nul-${account}`, { note: "a\u0000b" })));
      await send(item({ reference: { resource_id: `failed-${account}` } }, CollectorCollectResponse_State.FAILURE, `denied\u0000${"x".repeat(60_000)}`));
      await send(item(vm(`good-${account}-2`)));
      return { status: 0 };
    }
    case "nul_failure": {
      await send(item(vm(`before-failure-${account}`)));
      return { status: 14, message: `Prism\u0000 exploded: ${"y".repeat(60_000)}` };
    }
    case "steal": {
      // Another collector's resource id (and one of its own, which it may write).
      await send(item(vm(String(options.victim_resource_id), { stolen: true })));
      await send(item(vm(`thief-own-${account}`)));
      return { status: 0 };
    }
    default: {
      const count = Number(options.count ?? 3);
      for (let i = 0; i < count; i++) await send(item(vm(`plain-${account}-${i}`)));
      return { status: 0 };
    }
  }
}

function readBody(stream: http2.ServerHttp2Stream): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks).subarray(5)));
    stream.on("error", reject);
  });
}

const server = http2.createServer();
server.on("stream", (stream, headers) => {
  stream.on("error", () => {});
  void (async () => {
    const path = String(headers[":path"] ?? "");
    const body = await readBody(stream);
    stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
    let outcome: { status: number; message?: string } = { status: 0 };
    if (path === `${PREFIX}Init`) {
      const options = fromBinary(CollectorInitRequestSchema, body).options ?? {};
      const metadata: JsonObject = { supported_resource_type: ["cloud_service.CloudService"], version: "6.6.6" };
      if (options.metadata_bytes) metadata.padding = "m".repeat(Number(options.metadata_bytes));
      await write(stream, envelope(toBinary(CollectorInitResponseSchema, create(CollectorInitResponseSchema, { metadata }))));
    } else if (path === `${PREFIX}Verify`) {
      await write(stream, envelope(new Uint8Array()));
    } else if (path === `${PREFIX}Collect`) {
      const request = fromBinary(CollectorCollectRequestSchema, body);
      outcome = await collect(stream, request.options ?? {}, request.taskOptions ?? {});
    } else {
      outcome = { status: 12, message: "unimplemented" };
    }
    if (stream.destroyed || stream.closed) return;
    stream.once("wantTrailers", () => {
      stream.sendTrailers({ "grpc-status": String(outcome.status), ...(outcome.message ? { "grpc-message": encodeURIComponent(outcome.message) } : {}) });
    });
    stream.end();
  })().catch(() => stream.destroy());
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ event: "ready", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.once("SIGTERM", () => {
  server.close();
  process.exit(0);
});
