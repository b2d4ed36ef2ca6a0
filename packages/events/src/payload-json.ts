// The JSON an event payload travels as: a generated protobuf message written with
// toJson(Schema, message, {useProtoFieldName: true, alwaysEmitImplicit: true}). Type-level only,
// so this package needs no protobuf runtime: `jobId` becomes `job_id`, `$typeName` goes.

/** `collectorName` → `collector_name`. */
export type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Uppercase<Head> ? (Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`) : Head}${SnakeCase<Tail>}`
  : S;

/** The proto-field-name JSON of message type `M` (optional fields stay optional). */
export type PayloadJson<M> = { [K in keyof M as K extends `$${string}` ? never : SnakeCase<K & string>]: M[K] };
