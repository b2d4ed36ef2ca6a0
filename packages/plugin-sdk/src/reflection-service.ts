import { toBinary, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "@cloudforet/proto/grpc/reflection/v1/reflection_pb";
import * as v1alpha from "@cloudforet/proto/grpc/reflection/v1alpha/reflection_pb";

type ReflectionRequest = v1.ServerReflectionRequest;

/** The descriptors a reflection client can ask for: the served services' files and their imports. */
class Descriptors {
  private readonly byName = new Map<string, DescFile>();
  private readonly bySymbol = new Map<string, DescFile>();

  constructor(readonly services: DescService[]) {
    for (const service of services) this.add(service.file);
  }

  private add(file: DescFile): void {
    if (this.byName.has(file.proto.name)) return;
    this.byName.set(file.proto.name, file);
    const addMessage = (message: DescMessage) => {
      this.bySymbol.set(message.typeName, file);
      message.nestedMessages.forEach(addMessage);
      for (const nested of message.nestedEnums) this.bySymbol.set(nested.typeName, file);
    };
    for (const service of file.services) {
      this.bySymbol.set(service.typeName, file);
      for (const method of service.methods) this.bySymbol.set(`${service.typeName}.${method.name}`, file);
    }
    file.messages.forEach(addMessage);
    for (const en of file.enums) this.bySymbol.set(en.typeName, file);
    file.dependencies.forEach((dependency) => this.add(dependency));
  }

  file(name: string): DescFile | undefined {
    return this.byName.get(name);
  }

  fileOf(symbol: string): DescFile | undefined {
    return this.bySymbol.get(symbol.replace(/^\./, ""));
  }

  /** A file and everything it imports, once each. */
  closure(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  }
}

function respond(descriptors: Descriptors, req: ReflectionRequest): v1.ServerReflectionResponse["messageResponse"] {
  const missing = (what: string) => ({ case: "errorResponse" as const, value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } as v1.ErrorResponse });
  const files = (file: DescFile | undefined, what: string) =>
    file ? { case: "fileDescriptorResponse" as const, value: { fileDescriptorProto: descriptors.closure(file) } as v1.FileDescriptorResponse } : missing(what);
  const request = req.messageRequest;
  switch (request.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: descriptors.services.map((s) => ({ name: s.typeName })) } as unknown as v1.ListServiceResponse };
    case "fileByFilename":
      return files(descriptors.file(request.value), `file ${request.value}`);
    case "fileContainingSymbol":
      return files(descriptors.fileOf(request.value), `symbol ${request.value}`);
    case "allExtensionNumbersOfType":
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: request.value, extensionNumber: [] } as unknown as v1.ExtensionNumberResponse };
    default:
      return { case: "errorResponse", value: { errorCode: Code.Unimplemented, errorMessage: "unsupported reflection request" } as v1.ErrorResponse };
  }
}

/** grpc.reflection.v1 and v1alpha over the given services, so grpcurl and buf curl need no schema. */
export function registerPluginReflection(router: ConnectRouter, services: DescService[]): void {
  const descriptors = new Descriptors(services);
  async function* serve(requests: AsyncIterable<ReflectionRequest>) {
    for await (const req of requests) {
      yield { validHost: req.host, originalRequest: { host: req.host, messageRequest: req.messageRequest }, messageResponse: respond(descriptors, req) };
    }
  }
  router.service(v1.ServerReflection, { serverReflectionInfo: serve });
  // v1alpha is the same protocol under an older package name; the messages have the same shape.
  router.service(v1alpha.ServerReflection, {
    serverReflectionInfo: serve as unknown as (requests: AsyncIterable<v1alpha.ServerReflectionRequest>) => AsyncIterable<v1alpha.ServerReflectionResponse>,
  });
}
