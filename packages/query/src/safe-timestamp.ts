import { sql, type SQL } from "drizzle-orm";
import { textParameter } from "./typed-value";

/**
 * ISO 8601 text Postgres will accept as a timestamp: real months, days 01–31, hours 00–23,
 * offsets up to ±14:59, no year 0000. The day is checked against the month's length below.
 */
const isoTimestampText =
  "^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])" +
  "([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?" +
  "(Z|z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?)?$";

/** Only a time part carries an offset, so a date's own `-15` is never mistaken for one. */
const hasOffset = "[T ].*(Z|z|[+-][0-9:]+)$";

/**
 * A text expression read as timestamptz when it is an ISO 8601 date or date-time, else NULL,
 * so stored strings that are not dates never raise a cast error. Text without an offset is UTC.
 */
export function timestampFromText(text: SQL): SQL {
  const year = sql`substr(${text}, 1, 4)::int`;
  const month = sql`substr(${text}, 6, 2)::int`;
  const day = sql`substr(${text}, 9, 2)::int`;
  const lastDay = sql`extract(day from make_date(${year}, ${month}, 1) + interval '1 month' - interval '1 day')`;
  return sql`(CASE WHEN ${text} ~ ${textParameter(isoTimestampText)} THEN
    CASE WHEN ${day} <= ${lastDay} THEN
      CASE WHEN ${text} ~ ${textParameter(hasOffset)} THEN (${text})::timestamptz
      ELSE ((${text})::timestamp AT TIME ZONE 'UTC') END
    END
  END)`;
}
