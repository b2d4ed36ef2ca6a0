import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { decodeWriteRequest, MalformedWriteRequest } from "./write-request";

const encode = (build: (w: BinaryWriter) => void) => {
  const w = new BinaryWriter();
  build(w);
  return w.finish();
};

describe("decodeWriteRequest", () => {
  it("reads labels and samples, skipping fields it does not know", () => {
    const bytes = encode((w) => {
      w.tag(1, 2).fork();
      w.tag(1, 2).fork().tag(1, 2).string("__name__").tag(2, 2).string("up").join();
      w.tag(2, 2).fork().tag(1, 1).double(1.5).tag(2, 0).int64(1_700_000_000_123).join();
      w.tag(3, 2).bytes(new Uint8Array([1, 2, 3])); // exemplars: skipped
      w.join();
      w.tag(3, 2).bytes(new Uint8Array([9])); // metadata: skipped
    });
    expect(decodeWriteRequest(bytes)).toEqual({
      timeseries: [{ labels: [{ name: "__name__", value: "up" }], samples: [{ value: 1.5, timestampMs: 1_700_000_000_123 }] }],
    });
  });

  it("refuses truncated bodies, lengths past the end and invalid UTF-8", () => {
    const series = encode((w) => w.tag(1, 2).fork().tag(1, 2).fork().tag(1, 2).string("__name__").join().join());
    expect(() => decodeWriteRequest(series.slice(0, -2))).toThrow(MalformedWriteRequest);
    expect(() => decodeWriteRequest(new Uint8Array([0x0a, 0x7f, 0x01]))).toThrow(MalformedWriteRequest);
    const badUtf8 = encode((w) => w.tag(1, 2).fork().tag(1, 2).fork().tag(1, 2).bytes(new Uint8Array([0xff, 0xfe])).join().join());
    expect(() => decodeWriteRequest(badUtf8)).toThrow(MalformedWriteRequest);
    expect(() => decodeWriteRequest(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(MalformedWriteRequest);
  });
});
