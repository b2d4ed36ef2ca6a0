import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import fc from "fast-check";

/**
 * fast-check arbitraries of malformed Connect-JSON requests, derived from a method's input
 * descriptor: for every field a plausible value, a hostile value of the right type (huge strings,
 * NUL bytes, NaN, 1e308, negative numbers, impossible dates, unknown enum names, deep Structs,
 * long lists) or a value of the wrong type; fields left out at random, unknown fields added.
 */

export interface HostileOptions {
  /** Values worth trying for a string field by name ("workspace_id" → ids that exist). */
  plausibleStrings?: (fieldName: string) => string[];
}

const HUGE = 100_000;
const MAX_BODY = 1_000_000;

const wrongType: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(null, 0, -1, 1.5, "", "text", true, false, [], {}, [[1]], { nested: { x: 1 } });

const hugeString = fc.integer({ min: 1_000, max: HUGE }).chain((n) => fc.constantFrom("a", "é", "😀", "\u0000", "%").map((c) => c.repeat(Math.floor(n / c.length))));

const hostileString: fc.Arbitrary<string> = fc.oneof(
  hugeString,
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "'; DROP TABLE users; --",
    "../../../etc/passwd",
    "%s%n%x",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "\\",
    "null",
    "NaN",
    "-1",
    "9".repeat(400),
    "http://",
    "http://[::1",
    "ftp://127.0.0.1/",
    "not-an-id",
    "2024-13-45",
  ),
  fc.string({ unit: "binary", maxLength: 64 }),
);

const hostileNumber: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  "NaN",
  "Infinity",
  "-Infinity",
  1e308,
  -1e308,
  -1,
  -2147483649,
  2147483648,
  4294967296,
  9007199254740993,
  "9223372036854775808",
  "-9223372036854775809",
  "18446744073709551616",
  1.5,
  -0.5,
  5e-324,
  "abc",
  "1e400",
);

const integerScalars = new Set([
  ScalarType.INT32,
  ScalarType.SINT32,
  ScalarType.SFIXED32,
  ScalarType.UINT32,
  ScalarType.FIXED32,
  ScalarType.INT64,
  ScalarType.SINT64,
  ScalarType.SFIXED64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
]);

function scalarArbitrary(scalar: ScalarType, name: string, options: HostileOptions): fc.Arbitrary<unknown> {
  if (scalar === ScalarType.STRING) {
    const pool = options.plausibleStrings?.(name) ?? [];
    const plausible = pool.length > 0 ? fc.oneof(fc.constantFrom(...pool), fc.string({ maxLength: 24 })) : fc.string({ maxLength: 24 });
    return fc.oneof({ arbitrary: plausible, weight: 3 }, { arbitrary: hostileString, weight: 3 });
  }
  if (scalar === ScalarType.BOOL) return fc.oneof(fc.boolean(), fc.constantFrom<unknown>("true", 1, "yes"));
  if (scalar === ScalarType.BYTES) return fc.oneof(fc.base64String({ maxLength: 64 }), fc.constantFrom("!!!", "====", "a"));
  if (integerScalars.has(scalar)) return fc.oneof({ arbitrary: fc.integer({ min: 0, max: 1000 }), weight: 3 }, { arbitrary: hostileNumber, weight: 3 });
  return fc.oneof({ arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }), weight: 3 }, { arbitrary: hostileNumber, weight: 3 });
}

function enumArbitrary(desc: DescEnum): fc.Arbitrary<unknown> {
  const names = desc.values.map((v) => v.name);
  return fc.oneof(
    { arbitrary: fc.constantFrom(...names), weight: 4 },
    { arbitrary: fc.constantFrom<unknown>("NOT_A_VALUE", "", 99999, -1, names[names.length - 1].toLowerCase(), 1.5, "NaN"), weight: 3 },
  );
}

/** A JSON value nested `depth` levels deep, in objects and arrays. */
function deepJson(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value, n: i } : [value, i];
  return value;
}

const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 3 },
  { arbitrary: fc.integer({ min: 10, max: 400 }).map(deepJson), weight: 2 },
  { arbitrary: fc.integer({ min: 100, max: 5_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))), weight: 1 },
  { arbitrary: hugeString, weight: 1 },
);

const timestamps = fc.oneof(
  { arbitrary: fc.date({ min: new Date("2000-01-01"), max: new Date("2030-01-01"), noInvalidDate: true }).map((d) => d.toISOString()), weight: 3 },
  {
    arbitrary: fc.constantFrom<unknown>(
      "2024-13-45T00:00:00Z",
      "2024-02-30T25:61:61Z",
      "not-a-date",
      "0001-01-01T00:00:00Z",
      "9999-12-31T23:59:59Z",
      "1970-01-01T00:00:00Z",
      "1969-12-31T23:59:59Z",
      "2024-01-15",
      "",
      12345,
      -1,
      "NaN",
    ),
    weight: 3,
  },
);

const durations = fc.constantFrom<unknown>("1s", "0s", "-5s", "1.5s", "315576000001s", "abc", "NaNs", 5, "");

/** An arbitrary for a message as Connect JSON; past `depth` nested messages stay small. */
export function messageArbitrary(desc: DescMessage, options: HostileOptions = {}, depth = 0): fc.Arbitrary<unknown> {
  switch (desc.typeName) {
    case "google.protobuf.Struct":
      return fc.oneof({ arbitrary: anyJson.map((v) => (typeof v === "object" && v !== null && !Array.isArray(v) ? v : { v })), weight: 4 }, { arbitrary: wrongType, weight: 1 });
    case "google.protobuf.Value":
      return anyJson;
    case "google.protobuf.ListValue":
      return fc.oneof(fc.array(anyJson, { maxLength: 5 }), fc.integer({ min: 100, max: 10_000 }).map((n) => Array.from({ length: n }, (_, i) => i)));
    case "google.protobuf.Timestamp":
      return timestamps;
    case "google.protobuf.Duration":
      return durations;
    case "google.protobuf.FieldMask":
      return fc.constantFrom<unknown>("a,b", "", "name", "no_such.field", 7);
    case "google.protobuf.Empty":
      return fc.constantFrom<unknown>({}, { x: 1 });
    case "google.protobuf.Any":
      return fc.constantFrom<unknown>({ "@type": "type.googleapis.com/no.Such" }, {}, { "@type": 5 });
  }
  if (desc.typeName.startsWith("google.protobuf.") && desc.typeName.endsWith("Value")) {
    const value = desc.fields[0];
    return value.fieldKind === "scalar" ? scalarArbitrary(value.scalar, "value", options) : wrongType;
  }
  if (depth > 3) return fc.constantFrom<unknown>({}, null);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of desc.fields) model[field.name] = fieldArbitrary(field, options, depth);
  const fields = fc.record(model, { requiredKeys: [] });
  const extra = fc.dictionary(fc.constantFrom("unknown_field", "__proto__", "constructor", "$type", "domainId", "x".repeat(1000)), wrongType, { maxKeys: 2 });
  return fc.oneof(
    { arbitrary: fields, weight: 9 },
    { arbitrary: fc.tuple(fields, extra).map(([f, e]) => ({ ...(f as object), ...e })), weight: 1 },
  );
}

function elementArbitrary(field: DescField, options: HostileOptions, depth: number): fc.Arbitrary<unknown> {
  if (field.fieldKind === "list") {
    if (field.listKind === "scalar") return scalarArbitrary(field.scalar, field.name, options);
    if (field.listKind === "enum") return enumArbitrary(field.enum);
    return messageArbitrary(field.message, options, depth + 1);
  }
  if (field.fieldKind === "map") {
    if (field.mapKind === "scalar") return scalarArbitrary(field.scalar, field.name, options);
    if (field.mapKind === "enum") return enumArbitrary(field.enum);
    return messageArbitrary(field.message, options, depth + 1);
  }
  throw new Error("not a collection");
}

function fieldArbitrary(field: DescField, options: HostileOptions, depth: number): fc.Arbitrary<unknown> {
  let right: fc.Arbitrary<unknown>;
  switch (field.fieldKind) {
    case "scalar":
      right = scalarArbitrary(field.scalar, field.name, options);
      break;
    case "enum":
      right = enumArbitrary(field.enum);
      break;
    case "message":
      right = messageArbitrary(field.message, options, depth + 1);
      break;
    case "list": {
      const element = elementArbitrary(field, options, depth);
      // A small element: scalars filtered to a short one; a message element as the generator makes it
      // past its depth limit ({} or null), since filtering messages with many fields down to 200
      // characters rejects almost every one (minutes of generation for BatchUpsert's items).
      const small = field.listKind === "message" ? messageArbitrary(field.message, options, 4) : element.filter((e) => JSON.stringify(e ?? null).length < 200);
      right = fc.oneof(
        { arbitrary: fc.array(element, { maxLength: 4 }), weight: 4 },
        // a long list of one small plausible element (elements themselves may be large)
        { arbitrary: fc.tuple(fc.integer({ min: 500, max: 2_000 }), small).map(([n, e]) => Array.from({ length: n }, () => e)), weight: 1 },
      );
      break;
    }
    case "map": {
      const value = elementArbitrary(field, options, depth);
      right = fc.oneof(
        { arbitrary: fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), hostileString.filter((s) => s.length < 2_000)), value, { maxKeys: 4 }), weight: 4 },
        { arbitrary: fc.integer({ min: 500, max: 5_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`key-${i}`, field.mapKind === "scalar" && field.scalar === ScalarType.STRING ? `v${i}` : i]))), weight: 1 },
      );
      break;
    }
  }
  return fc.oneof({ arbitrary: right, weight: 8 }, { arbitrary: wrongType, weight: 1 });
}

/** A whole request body: mostly a hostile message, sometimes not a message at all. */
export function requestArbitrary(desc: DescMessage, options: HostileOptions = {}): fc.Arbitrary<unknown> {
  return fc.oneof(
    // Huge strings times long lists times deep Structs multiply; a request stays under ~1 MB.
    { arbitrary: messageArbitrary(desc, options).filter((body) => JSON.stringify(body).length < MAX_BODY), weight: 19 },
    { arbitrary: fc.constantFrom<unknown>(null, [], 42, "string", true, "{", "{\"a\":", "", "[1,2", "\u0000"), weight: 1 },
  );
}

/**
 * Values no layer below the API should ever see, for planting into nested fields of otherwise
 * valid requests: NUL and lone surrogates (also in keys), numbers past 2^53 and past int64,
 * times outside 0001..9999 (JS dates reach ±275760), and JSON nested far past any limit.
 */
export const hostileLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    "\u0000",
    "a\u0000b",
    "\ud800x",
    "x\udc00",
    "\ud800",
    { "k\u0000": 1 },
    { "\udfff": "v" },
    ["ok", "\u0000"],
    99999999999999999999,
    "99999999999999999999",
    -9223372036854775809,
    1e308,
    "+275760-09-13T00:00:00Z",
    "-271821-04-20T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
  ),
  fc.string({ unit: "binary", maxLength: 16 }).map((s) => `${s}\u0000${s}`),
  // Past the 64-level limit; 10,000 deep is a regression test of its own (JSON.stringify in this process cannot go that far).
  fc.integer({ min: 65, max: 2_000 }).map(deepJson),
);

/** A path into a JSON value: object keys and array indexes, each step chosen by a number. */
export type JsonPath = (string | number)[];

/** Every path of a JSON value down to its leaves (objects and arrays included), the root first. */
export function pathsOf(value: unknown, prefix: JsonPath = []): JsonPath[] {
  const paths: JsonPath[] = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => paths.push(...pathsOf(item, [...prefix, i])));
  else if (value !== null && typeof value === "object") for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  return paths;
}

/**
 * A copy of `base` with `leaf` planted at `path`: replacing what is there, or — where the path
 * ends at an object or array — added under a new key `extra` (so objects get hostile siblings).
 */
export function plant(base: unknown, path: JsonPath, leaf: unknown, replace: boolean): unknown {
  const copy = structuredClone(base);
  if (path.length === 0) return replace ? leaf : Array.isArray(copy) ? [...copy, leaf] : { ...(copy as object), extra: leaf };
  let parent = copy as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  const target = parent[last];
  if (!replace && target !== null && typeof target === "object") {
    if (Array.isArray(target)) target.push(leaf);
    else (target as Record<string, unknown>).extra = leaf;
  } else parent[last] = leaf;
  return copy;
}

/** A valid request with one hostile value planted somewhere in it (nested fields above all). */
export function plantedArbitrary(base: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(base);
  return fc.tuple(fc.constantFrom(...paths), hostileLeaf, fc.boolean()).map(([path, leaf, replace]) => plant(base, path, leaf, replace));
}

/** Percent-encodings a URL path or query may carry that decode to nothing valid (or to NUL). */
export const hostileEncoding: fc.Arbitrary<string> = fc.constantFrom("%E0%A4%A", "%ED%A0%80", "%00", "a%00b", "%", "%zz", "%C0%AF", "%FF", "%F4%90%80%80", "%EF%BF%BF");
