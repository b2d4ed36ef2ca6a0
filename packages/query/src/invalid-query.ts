import { invalidParameter, type PlatformError } from "@cloudforet/errors";

const maxEchoedValue = 200;

/**
 * ERROR_INVALID_PARAMETER naming the part of the query at fault (`query.filter[2]`,
 * `query.page.limit`) and, when there is one, the offending value (shortened).
 */
export function invalidQuery(parameter: string, message: string, value?: unknown): PlatformError {
  return invalidParameter(message, { parameter, value: echo(value) });
}

function echo(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let text: string;
  try {
    text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > maxEchoedValue ? `${text.slice(0, maxEchoedValue)}…` : text;
}
