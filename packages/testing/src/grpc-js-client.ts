import { fromBinary, toBinary, type DescMessage, type DescService, type MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

/**
 * A plain @grpc/grpc-js client for any generated service, serializing with protobuf-es — the way
 * a third-party gRPC client (not Connect) talks to our ports. `address` is "host:port".
 */
export function grpcJsClient(service: DescService, address: string): grpc.Client & Record<string, Function> {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input) as (value: unknown) => Buffer,
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output) as (value: unknown) => Buffer,
      responseDeserialize: deserializer(method.output),
    };
  }
  const Client = grpc.makeGenericClientConstructor(definition, service.name);
  return new Client(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
}

const serializer = (desc: DescMessage) => (value: MessageShape<DescMessage>) => Buffer.from(toBinary(desc, value));
const deserializer = (desc: DescMessage) => (bytes: Buffer) => fromBinary(desc, bytes);

/** Calls a unary method of a grpcJsClient and resolves with the response (or the grpc-js error). */
export function grpcJsUnary<T>(client: grpc.Client & Record<string, Function>, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    );
  });
}
