/** The JSON of a failed call as a client reports it (seed 000, pattern 4). */
export interface ErrorJSON<Code extends string = string> {
  error_code: Code;
  error_message: string;
  error_details: Record<string, string>;
  request_id: string | null;
  should_retry: boolean;
}

/** What a client error knows about itself, in the names our error classes use. */
export interface ErrorJSONSource<Code extends string = string> {
  errorCode: Code;
  message: string;
  details: Record<string, string>;
  requestId?: string;
  shouldRetry: boolean;
}

/** One `toJSON` for every client-side error class (the resilience ClientError and the SDK's APIError). */
export function errorToJSON<Code extends string>(err: ErrorJSONSource<Code>): ErrorJSON<Code> {
  return {
    error_code: err.errorCode,
    error_message: err.message,
    error_details: err.details,
    request_id: err.requestId ?? null,
    should_retry: err.shouldRetry,
  };
}
