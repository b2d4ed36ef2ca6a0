/**
 * Whether Postgres can store the string as text: no NUL character and no unpaired UTF-16 surrogate
 * (JSON input can carry either; both would otherwise fail in the database as INTERNAL).
 */
export const isStorableText = (value: string): boolean => !value.includes("\u0000") && !loneSurrogate.test(value);

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
