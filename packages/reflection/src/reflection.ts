import { toBinary, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "@cloudforet/proto/grpc/reflection/v1/reflection_pb";
import * as v1alpha from "@cloudforet/proto/grpc/reflection/v1alpha/reflection_pb";

type Request = v1.ServerReflectionRequest;
type Response = Omit<v1.ServerReflectionResponse, "$typeName" | "$unknown">;

/**
 * Everything a reflection client may ask about: the files that declare the served services
 * and every file they import, indexed by file name and by fully-qualified symbol.
 */
export class DescriptorIndex {
  private readonly filesByName = new Map<string, DescFile>();
  private readonly fileBySymbol = new Map<string, DescFile>();
  readonly serviceNames: string[];

  /** `extraFiles` makes types no service references resolvable too (error details). */
  constructor(services: DescService[], extraFiles: DescFile[] = []) {
    this.serviceNames = [...new Set(services.map((s) => s.typeName))].sort();
    for (const service of services) this.addFile(service.file);
    for (const file of extraFiles) this.addFile(file);
  }

  private addFile(file: DescFile): void {
    if (this.filesByName.has(file.proto.name)) return;
    this.filesByName.set(file.proto.name, file);
    for (const service of file.services) {
      this.fileBySymbol.set(service.typeName, file);
      for (const method of service.methods) this.fileBySymbol.set(`${service.typeName}.${method.name}`, file);
    }
    for (const en of file.enums) this.fileBySymbol.set(en.typeName, file);
    for (const message of file.messages) this.addMessage(message, file);
    for (const ext of file.extensions) this.fileBySymbol.set(ext.typeName, file);
    for (const dep of file.dependencies) this.addFile(dep);
  }

  private addMessage(message: DescMessage, file: DescFile): void {
    this.fileBySymbol.set(message.typeName, file);
    for (const nested of message.nestedMessages) this.addMessage(nested, file);
    for (const en of message.nestedEnums) this.fileBySymbol.set(en.typeName, file);
  }

  fileByName(name: string): DescFile | undefined {
    return this.filesByName.get(name);
  }

  fileContaining(symbol: string): DescFile | undefined {
    return this.fileBySymbol.get(symbol.replace(/^\./, ""));
  }

  /** The file and every file it imports, each once, serialized as FileDescriptorProto. */
  serializeWithDependencies(file: DescFile): Uint8Array[] {
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

function answer(index: DescriptorIndex, req: Request): Response["messageResponse"] {
  const notFound = (what: string) => ({
    case: "errorResponse" as const,
    value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } as v1.ErrorResponse,
  });
  const files = (file: DescFile | undefined, what: string) =>
    file
      ? {
          case: "fileDescriptorResponse" as const,
          value: { fileDescriptorProto: index.serializeWithDependencies(file) } as v1.FileDescriptorResponse,
        }
      : notFound(what);
  const mr = req.messageRequest;
  switch (mr.case) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: { service: index.serviceNames.map((name) => ({ name })) } as unknown as v1.ListServiceResponse,
      };
    case "fileByFilename":
      return files(index.fileByName(mr.value), `file ${mr.value}`);
    case "fileContainingSymbol":
      return files(index.fileContaining(mr.value), `symbol ${mr.value}`);
    case "fileContainingExtension":
      return notFound(`extension ${mr.value.extensionNumber} of ${mr.value.containingType}`);
    case "allExtensionNumbersOfType": {
      const file = index.fileContaining(mr.value);
      if (!file) return notFound(`type ${mr.value}`);
      return {
        case: "allExtensionNumbersResponse",
        value: { baseTypeName: mr.value, extensionNumber: [] } as unknown as v1.ExtensionNumberResponse,
      };
    }
    default:
      return {
        case: "errorResponse",
        value: { errorCode: Code.InvalidArgument, errorMessage: "empty reflection request" } as v1.ErrorResponse,
      };
  }
}

/** Serves grpc.reflection.v1 and v1alpha (grpcurl and buf curl use either) from one index. */
export function registerReflection(router: ConnectRouter, index: DescriptorIndex): void {
  async function* serve(requests: AsyncIterable<Request>) {
    for await (const req of requests) {
      const originalRequest = { host: req.host, messageRequest: req.messageRequest };
      yield { validHost: req.host, originalRequest, messageResponse: answer(index, req) };
    }
  }
  router.service(v1.ServerReflection, { serverReflectionInfo: serve });
  // v1alpha is the same protocol under another package name; the message shapes are identical.
  router.service(v1alpha.ServerReflection, {
    serverReflectionInfo: serve as unknown as (
      requests: AsyncIterable<v1alpha.ServerReflectionRequest>,
    ) => AsyncIterable<v1alpha.ServerReflectionResponse>,
  });
}
