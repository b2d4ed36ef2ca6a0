import { ErrorCode, PlatformError } from "@cloudforet/errors";
import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDatetime } from "./datetime";
import type { QueryFields } from "./field-map";
import { listWith } from "./list-with";
import { FILTER_OPERATORS } from "./operators";
import type { FilterJson } from "./query-input";
import { regexProblem } from "./regex-check";
import { timestampFromText } from "./safe-timestamp";
import { statWith } from "./stat-with";
import { cloudServiceFields, createCloudServices, type CloudServiceTable } from "./test-support/cloud-service-fixture";
import { textParameter } from "./typed-value";

let test: TestSchema;
let table: CloudServiceTable;
let fields: QueryFields;

beforeAll(async () => {
  test = await createTestSchema("query_prop");
  table = await createCloudServices(test);
  fields = cloudServiceFields(table);
});

afterAll(async () => {
  await test?.drop();
});

/** Runs the call; a refusal must be INVALID_ARGUMENT, anything else (a database error) fails. */
async function refusedOrAnswered(call: () => Promise<unknown>): Promise<"answered" | "refused"> {
  try {
    await call();
    return "answered";
  } catch (err) {
    if (err instanceof PlatformError && err.code === ErrorCode.INVALID_PARAMETER) {
      if (process.env.DEBUG_REFUSALS) console.error(err.message);
      return "refused";
    }
    throw err;
  }
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** Strings shaped like ISO date-times, with every field allowed out of range. */
const dateLike = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 19 }),
    day: fc.integer({ min: 0, max: 39 }),
    time: fc.option(
      fc.record({
        hour: fc.integer({ min: 0, max: 29 }),
        minute: fc.integer({ min: 0, max: 69 }),
        second: fc.option(fc.integer({ min: 0, max: 69 })),
        fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/)),
        zone: fc.option(fc.oneof(fc.constant("Z"), fc.stringMatching(/^[+-][0-2][0-9](:?[0-6][0-9])?$/))),
      }),
    ),
  })
  .map(({ year, month, day, time }) => {
    let text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
    if (time) {
      text += `T${pad(time.hour, 2)}:${pad(time.minute, 2)}`;
      if (time.second !== null) text += `:${pad(time.second, 2)}${time.fraction ? `.${time.fraction}` : ""}`;
      text += time.zone ?? "";
    }
    return text;
  });

/** Strings made of regex syntax. */
const regexLike = fc
  .array(
    fc.constantFrom(
      ..."()[]{}*+?|^$.\\-,:=!<>".split(""),
      "\\d", "\\w", "\\s", "\\D", "\\b", "\\1", "\\p{L}", "\\u{41}", "\\ud800", "\\x41", "\\k<a>",
      "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?<n>", "{2}", "{300}", "{2,5}", "{,3}", "[^]", "[]", "a", "b", "0", "9",
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(""));

const keys = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(
    "name", "state", "provider", "account", "created_at", "cloud_service_id", "data", "tags", "data.cluster",
    "data.cpu_cores", "data.memory_gb", "data.missing", "tags.environment", "data.a.b.c", "data.0", "data.cpu_cores.x",
  ) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z_]{1,8}(\.[a-z0-9_-]{1,6}){0,3}$/) },
);

const strings = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.constantFrom("now", "now/d-14d", "now-1h", "now/w+3d", "now-9999999w", "'; DROP TABLE cloud_service; --", "%", "_", "\\", "ON", "production", "cluster-prod-01"),
  dateLike,
  regexLike,
);

const scalars = fc.oneof(strings, fc.double(), fc.integer(), fc.boolean(), fc.constant(null));

const values = fc.oneof(
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 6, arbitrary: scalars },
  { weight: 3, arbitrary: fc.array(scalars, { maxLength: 5 }) },
  { weight: 3, arbitrary: fc.tuple(scalars, scalars) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const operators = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...FILTER_OPERATORS) },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

const isoTimes = fc.oneof(
  fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }).map((date) => date.toISOString()),
  dateLike,
);
const relativeTimes = fc.stringMatching(/^now(\/[smhdw])?([+-][0-9]{1,4}[smhdw]){0,2}$/);
const numbersOrStrings = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), strings);

/** A value of the shape each operator takes, so most of these reach the database. */
const valueFor: Record<string, fc.Arbitrary<unknown>> = {
  eq: scalars,
  not: scalars,
  exists: fc.boolean(),
  contain: fc.oneof(strings, fc.integer(), fc.boolean()),
  not_contain: strings,
  in: fc.array(scalars, { maxLength: 6 }),
  not_in: fc.array(scalars, { maxLength: 6 }),
  contain_in: fc.array(strings, { maxLength: 6 }),
  not_contain_in: fc.array(strings, { maxLength: 6 }),
  regex: regexLike,
  between: fc.oneof(fc.tuple(fc.integer(), fc.integer()), fc.tuple(isoTimes, isoTimes), fc.tuple(strings, strings)),
};
for (const operator of ["lt", "lte", "gt", "gte"]) valueFor[operator] = numbersOrStrings;
for (const operator of ["datetime_lt", "datetime_lte", "datetime_gt", "datetime_gte"]) valueFor[operator] = isoTimes;
for (const operator of ["timediff_lt", "timediff_lte", "timediff_gt", "timediff_gte"]) valueFor[operator] = relativeTimes;

const wellShapedFilter = fc
  .constantFrom(...FILTER_OPERATORS)
  .chain((o) => fc.record({ k: keys, o: fc.constant(o), v: valueFor[o] }));

const filters = fc.array(
  fc.oneof(wellShapedFilter, fc.record({ k: keys, v: values, o: operators })).map((filter) => filter as FilterJson),
  { minLength: 1, maxLength: 2 },
);

describe("random input never reaches Postgres as an error", () => {
  it("random filters are answered or refused with INVALID_ARGUMENT", async () => {
    const outcomes = { answered: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(filters, async (filter) => {
        const query = { filter, page: { limit: 5 } };
        outcomes[await refusedOrAnswered(() => listWith(test.db, table, fields, query))]++;
      }),
      { numRuns: Number(process.env.QUERY_PROPERTY_RUNS ?? 600) },
    );
    // The property is only worth something if plenty of random filters reached the database.
    expect(outcomes.answered).toBeGreaterThan(150);
    const [{ count }] = await test.sql`select count(*)::int as count from ${test.sql(test.schema)}.cloud_service`;
    expect(count).toBe(67);
  });

  it("random stat queries are answered or refused with INVALID_ARGUMENT", async () => {
    const statOperators = fc.oneof(
      fc.constantFrom("count", "sum", "average", "avg", "min", "max", "add_to_set", "push", "first", "last"),
      fc.constant(undefined),
    );
    const statistics = fc.dictionary(
      fc.oneof({ weight: 6, arbitrary: fc.constantFrom("count", "avg_x", "total_x", "min_x", "max_x", "n") }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }),
      fc.record({ key: fc.option(keys, { nil: undefined }), operator: statOperators }),
      { maxKeys: 3 },
    );
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(keys, { maxLength: 2 }), statistics, filters, async (groupKeys, stats, filter) => {
        const query = { filter: filter.slice(0, 1).map(({ k, o }) => ({ k, o, v: "x" })), aggregate: [{ group: { keys: groupKeys }, statistics: stats }] };
        if ((await refusedOrAnswered(() => statWith(test.db, table, fields, query as never))) === "answered") answered++;
      }),
      { numRuns: Number(process.env.QUERY_PROPERTY_RUNS ?? 300) },
    );
    expect(answered).toBeGreaterThan(20);
  });

  it("a regex the validator accepts, Postgres compiles", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(regexLike, async (pattern) => {
        if (regexProblem(pattern) !== undefined) return;
        accepted++;
        await test.sql`select 'abc' ~ ${pattern}::text as matched`;
      }),
      { numRuns: Number(process.env.QUERY_PROPERTY_RUNS ?? 1500) },
    );
    expect(accepted).toBeGreaterThan(50);
  });

  it("date-like text becomes a timestamp or NULL, never a cast error, and agrees with parseDatetime", async () => {
    await fc.assert(
      fc.asyncProperty(dateLike, async (text) => {
        const rows = (await test.db.execute(
          sql`select (extract(epoch from ${timestampFromText(textParameter(text))}) * 1000)::float8 as ms`,
        )) as unknown as { ms: number | null }[];
        const parsed = parseDatetime(text);
        // JavaScript keeps milliseconds, Postgres rounds to microseconds: at most 1 ms apart.
        if (parsed) expect(Math.abs((rows[0].ms ?? Number.NaN) - parsed.getTime())).toBeLessThanOrEqual(1);
      }),
      { numRuns: Number(process.env.QUERY_PROPERTY_RUNS ?? 800) },
    );
  });
});
