/** A caller that sends this header promises the server dedupes the call, so it may be sent again. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
