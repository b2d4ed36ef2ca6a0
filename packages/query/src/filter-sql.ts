import type { JsonValue } from "@bufbuild/protobuf";
import { or, sql, type SQL } from "drizzle-orm";
import { parseDatetime } from "./datetime";
import { resolveKey, type QueryFields } from "./field-map";
import { invalidQuery } from "./invalid-query";
import { containsPattern } from "./like-pattern";
import { QUERY_LIMITS } from "./limits";
import { operandFor, type Operand, type Target } from "./operand";
import type { QueryFilter } from "./query-model";
import { regexProblem } from "./regex-check";
import { parseTimediff } from "./timediff";
import { bindList, bindValue, encodeValue, textParameter, typeDescription } from "./typed-value";

const comparison = { lt: "<", lte: "<=", gt: ">", gte: ">=" } as const;
type Comparison = keyof typeof comparison;

/**
 * One filter as an SQL condition. The key resolves through the field map (so identifiers
 * come only from there) and every value is bound as a typed parameter; a value the key
 * cannot take is INVALID_ARGUMENT naming the filter, never a database error.
 */
export function filterCondition(fields: QueryFields, filter: QueryFilter, now: Date): SQL {
  const operand = operandFor(resolveKey(fields, filter.key, filter.parameter), filter.key);
  const conditions = new FilterConditions(operand, filter);
  const { operator } = filter;
  switch (operator) {
    case "eq":
      return conditions.equals();
    case "not":
      return negate(conditions.equals());
    case "lt":
    case "lte":
    case "gt":
    case "gte":
      return conditions.compare(operator);
    case "between":
      return conditions.between();
    case "exists":
      return conditions.exists();
    case "in":
      return conditions.inList();
    case "not_in":
      return negate(conditions.inList());
    case "contain":
      return conditions.contains(conditions.single());
    case "not_contain":
      return negate(conditions.contains(conditions.single()));
    case "contain_in":
      return conditions.contains(conditions.list());
    case "not_contain_in":
      return negate(conditions.contains(conditions.list()));
    case "regex":
      return conditions.regex();
    case "datetime_lt":
    case "datetime_lte":
    case "datetime_gt":
    case "datetime_gte":
      return conditions.atTime(operator.slice("datetime_".length) as Comparison, parseDatetime, "an ISO 8601 date-time");
    case "timediff_lt":
    case "timediff_lte":
    case "timediff_gt":
    case "timediff_gte":
      return conditions.atTime(
        operator.slice("timediff_".length) as Comparison,
        (text) => parseTimediff(text, now),
        "a relative time such as now/d-14d or now-1h",
      );
  }
}

/**
 * The negation of a condition, with "unknown" read as "no match" first: `not`, `not_in` and
 * `not_contain` match exactly the rows the positive operator does not, so rows lacking the
 * key, holding null, or holding a value of another type match them (as Mongo's $ne, $nin).
 */
const negate = (condition: SQL) => sql`NOT COALESCE(${condition}, false)`;

class FilterConditions {
  constructor(
    private readonly operand: Operand,
    private readonly filter: QueryFilter,
  ) {}

  /** `eq`; `not` is its negation, which (NULL-safe) also matches rows lacking the key. */
  equals(): SQL {
    const value = this.value();
    if (value === null) return this.operand.isNull;
    const target = this.targetFor(value);
    // A bare comparison keeps indexes usable; NULL already means "no match" in WHERE, and
    // `negate` reads it as false before negating.
    return this.withContainment(sql`(${target.expr} = ${this.bind(value, target)})`, [value]);
  }

  compare(operator: Comparison): SQL {
    const value = this.value();
    if (typeof value !== "number" && typeof value !== "string") throw this.invalid(`${operator} needs a number or a string`, value);
    const target = this.targetFor(value);
    return sql`(${target.expr} ${sql.raw(comparison[operator])} ${this.bind(value, target)})`;
  }

  between(): SQL {
    const value = this.value();
    const ordered = (item: JsonValue) => typeof item === "number" || typeof item === "string";
    if (!Array.isArray(value) || value.length !== 2 || !value.every(ordered)) {
      throw this.invalid("between needs a list of two numbers or two strings, [low, high]", value);
    }
    const [low, high] = value;
    const target = this.targetFor(low);
    if (this.targetFor(high).type !== target.type) throw this.invalid("between needs two values of the same type", value);
    return sql`(${target.expr} >= ${this.bind(low, target)} AND ${target.expr} <= ${this.bind(high, target)})`;
  }

  exists(): SQL {
    const value = this.value();
    if (typeof value !== "boolean") throw this.invalid("exists needs true or false", value);
    return value ? this.operand.isPresent : sql`NOT ${this.operand.isPresent}`;
  }

  /**
   * `in`: values grouped by the type they compare as, each group one bound array; a `null` in
   * the list adds "missing or null". On a JSON path the non-null values become one containment
   * test (exact for scalars), so a GIN index serves `in` with or without a null.
   */
  inList(): SQL {
    const values = this.list();
    const present = values.filter((value) => value !== null);
    const groups = new Map<string, { target: Target; encoded: string[] }>();
    for (const value of present) {
      const target = this.targetFor(value);
      const group = groups.get(target.type) ?? { target, encoded: [] };
      group.encoded.push(this.encode(value, target));
      groups.set(target.type, group);
    }
    const conditions = [...groups.values()].map(
      ({ target, encoded }) => sql`(${target.expr} = ANY(${bindList(encoded, target.type)}))`,
    );
    const matches = conditions.length === 0 ? undefined : this.withContainment(or(...conditions)!, present);
    if (present.length === values.length) return matches ?? sql`false`;
    return matches ? sql`(${matches} OR ${this.operand.isNull})` : this.operand.isNull;
  }

  /**
   * On a JSON path, the comparison as JSON containment when that is the same condition, else
   * ANDed with the containment it implies: the rows are the same, but a GIN index on the
   * column finds them, and the planner estimates how many from the column's statistics (an
   * extra expression would be guessed at 0.5% and skew the plan).
   */
  private withContainment(comparison: SQL, values: readonly JsonValue[]): SQL {
    const implied = this.operand.containment(values);
    if (!implied) return comparison;
    return implied.exact ? implied.condition : sql`(${implied.condition} AND ${comparison})`;
  }

  /**
   * Case-insensitive substring match of any of the values; on a JSON array, whether it holds
   * any of them as an element.
   */
  contains(values: JsonValue[]): SQL {
    const scalars = values.map((value) => {
      if (value === null || typeof value === "object") throw this.invalid("contain needs strings, numbers or booleans", value);
      return value;
    });
    if (scalars.length === 0) return sql`false`;
    const patterns = scalars.map((value) => containsPattern(String(value)));
    const substring = sql`(${this.operand.text} ILIKE ANY(${bindList(patterns, "text")}))`;
    const json = this.operand.json;
    if (!json) return substring;
    return sql`(CASE WHEN jsonb_typeof(${json}) = 'array' THEN EXISTS (
      SELECT 1 FROM jsonb_array_elements(${textParameter(JSON.stringify(scalars))}::jsonb) AS e(v) WHERE ${json} @> jsonb_build_array(e.v)
    ) ELSE ${substring} END)`;
  }

  regex(): SQL {
    const value = this.value();
    if (typeof value !== "string") throw this.invalid("regex needs a pattern string", value);
    const problem = regexProblem(value);
    if (problem) throw this.invalid(problem, value);
    return sql`(${this.operand.text} ~ ${textParameter(value)})`;
  }

  atTime(operator: Comparison, parse: (text: string) => Date | undefined, expected: string): SQL {
    const value = this.value();
    const time = typeof value === "string" ? parse(value) : undefined;
    if (!time) throw this.invalid(`${this.filter.operator} needs ${expected}`, value);
    const timestamp = this.operand.timestamp;
    if (!timestamp) throw this.invalid(`${this.operand.key} does not hold date-times`, this.operand.key);
    return sql`(${timestamp} ${sql.raw(comparison[operator])} ${bindValue(time.toISOString(), "timestamptz")})`;
  }

  /** The value of `contain` and `not_contain`, as a one-value list. */
  single(): JsonValue[] {
    return [this.value()];
  }

  /** The values of a list operator. */
  list(): JsonValue[] {
    const value = this.value();
    if (!Array.isArray(value)) throw this.invalid(`${this.filter.operator} needs a list of values`, value);
    if (value.length > QUERY_LIMITS.maxListValues) {
      throw this.invalid(`${this.filter.operator} takes at most ${QUERY_LIMITS.maxListValues} values`, value.length);
    }
    return value;
  }

  private value(): JsonValue {
    if (this.filter.value === undefined) throw this.invalid(`${this.filter.operator} needs a value v`);
    return this.filter.value;
  }

  private targetFor(value: JsonValue): Target {
    const target = value === null ? undefined : this.operand.target(value);
    if (!target) throw this.invalid(`${this.operand.key} cannot be compared with ${JSON.stringify(value)}`, value);
    return target;
  }

  private encode(value: JsonValue, target: Target): string {
    const encoded = encodeValue(value, target.type);
    if (encoded === undefined) throw this.invalid(`${this.operand.key} expects ${typeDescription[target.type]}`, value);
    return encoded;
  }

  private bind(value: JsonValue, target: Target): SQL {
    return bindValue(this.encode(value, target), target.type);
  }

  private invalid(message: string, value?: unknown) {
    return invalidQuery(this.filter.parameter, message, value);
  }
}
