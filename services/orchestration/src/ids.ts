const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a UUID (ids of sequences, instances, signals, outputs and worker tasks). */
export const isUuid = (value: unknown): value is string => typeof value === "string" && UUID.test(value);
