import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/**
 * Prometheus remote write 1.0 (`prometheus.WriteRequest`, prompb/remote.proto and types.proto), the
 * parts this receiver reads: timeseries = 1 { labels = 1 { name = 1, value = 2 }, samples = 2
 * { value = 1 (double), timestamp = 2 (int64 ms) } }. Metadata (3), exemplars and histograms are
 * skipped. A hand-written reader rather than generated code: the upstream package `prometheus` is
 * unversioned, so its .proto does not pass this repository's buf lint.
 */
export interface WriteRequest {
  timeseries: TimeSeries[];
}

export interface TimeSeries {
  labels: Label[];
  samples: RawSample[];
}

export interface Label {
  name: string;
  value: string;
}

export interface RawSample {
  value: number;
  /** Milliseconds since the epoch. */
  timestampMs: number;
}

/** The body is not a WriteRequest (truncated, wrong wire types, invalid UTF-8). */
export class MalformedWriteRequest extends Error {}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes an uncompressed WriteRequest; throws MalformedWriteRequest for anything else. */
export function decodeWriteRequest(bytes: Uint8Array): WriteRequest {
  try {
    const reader = new BinaryReader(bytes, (text) => strictUtf8.decode(text));
    const timeseries: TimeSeries[] = [];
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1 && wireType === WireType.LengthDelimited) timeseries.push(readTimeSeries(reader, reader.uint32()));
      else reader.skip(wireType, field);
    }
    return { timeseries };
  } catch (err) {
    throw err instanceof MalformedWriteRequest ? err : new MalformedWriteRequest(`not a remote-write WriteRequest: ${(err as Error).message}`);
  }
}

function readTimeSeries(reader: BinaryReader, length: number): TimeSeries {
  const end = boundedEnd(reader, length);
  const series: TimeSeries = { labels: [], samples: [] };
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) series.labels.push(readLabel(reader, reader.uint32()));
    else if (field === 2 && wireType === WireType.LengthDelimited) series.samples.push(readSample(reader, reader.uint32()));
    else reader.skip(wireType, field);
  }
  if (reader.pos !== end) throw new MalformedWriteRequest("a timeseries overruns its length");
  return series;
}

function readLabel(reader: BinaryReader, length: number): Label {
  const end = boundedEnd(reader, length);
  const label: Label = { name: "", value: "" };
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) label.name = reader.string();
    else if (field === 2 && wireType === WireType.LengthDelimited) label.value = reader.string();
    else reader.skip(wireType, field);
  }
  if (reader.pos !== end) throw new MalformedWriteRequest("a label overruns its length");
  return label;
}

function readSample(reader: BinaryReader, length: number): RawSample {
  const end = boundedEnd(reader, length);
  const sample: RawSample = { value: 0, timestampMs: 0 };
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Bit64) sample.value = reader.double();
    else if (field === 2 && wireType === WireType.Varint) sample.timestampMs = Number(reader.int64());
    else reader.skip(wireType, field);
  }
  if (reader.pos !== end) throw new MalformedWriteRequest("a sample overruns its length");
  return sample;
}

function boundedEnd(reader: BinaryReader, length: number): number {
  const end = reader.pos + length;
  if (end > reader.len) throw new MalformedWriteRequest("a length runs past the end of the body");
  return end;
}
