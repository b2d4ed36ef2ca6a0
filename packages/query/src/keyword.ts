import { or, sql, type SQL } from "drizzle-orm";
import { resolveKey, type QueryFields } from "./field-map";
import { invalidQuery } from "./invalid-query";
import { containsPattern } from "./like-pattern";
import { operandFor } from "./operand";
import { textParameter } from "./typed-value";

/** `keyword`: a case-insensitive substring of any of the entity's keyword fields. */
export function keywordCondition(fields: QueryFields, keyword: string, parameter: string): SQL {
  if (fields.keywordFields.length === 0) throw invalidQuery(parameter, "This list does not support keyword search");
  const pattern = containsPattern(keyword);
  const matches = fields.keywordFields.map((key) => {
    const operand = operandFor(resolveKey(fields, key, parameter), key);
    return sql`COALESCE(${operand.text} ILIKE ${textParameter(pattern)}, false)`;
  });
  return or(...matches)!;
}
