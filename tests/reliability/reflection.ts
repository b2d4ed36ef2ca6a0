import { create, createFileRegistry, fromBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ServerReflection, ServerReflectionRequestSchema, type ServerReflectionRequest } from "@cloudforet/proto/grpc/reflection/v1/reflection_pb";

/** An RPC a port serves, as its reflection describes it. */
export interface ReflectedMethod {
  /** The service's base URL. */
  baseUrl: string;
  service: DescService;
  method: DescMethod;
  /** "cloudforet.cost.v1.CostService/Create" */
  procedure: string;
}

/** Infrastructure every port serves; the tests of the platform's own RPCs leave them out. */
const infrastructure = /^grpc\./;

/**
 * Asks a port's grpc.reflection.v1 which services it serves and decodes their files (with every
 * import) into a registry, so the tests cover whatever the port serves today — a new RPC included.
 */
export async function reflectServices(baseUrl: string): Promise<DescService[]> {
  const client = createClient(ServerReflection, createGrpcTransport({ baseUrl }));
  const ask = async (requests: ServerReflectionRequest["messageRequest"][]) => {
    async function* stream() {
      for (const messageRequest of requests) yield create(ServerReflectionRequestSchema, { messageRequest });
    }
    const answers = [];
    for await (const answer of client.serverReflectionInfo(stream(), { timeoutMs: 10_000 })) answers.push(answer.messageResponse);
    return answers;
  };
  const [listed] = await ask([{ case: "listServices", value: "*" }]);
  if (listed?.case !== "listServicesResponse") throw new Error(`${baseUrl}: reflection did not list services`);
  const names = listed.value.service.map((s) => s.name).filter((name) => !infrastructure.test(name));
  const files = new Map<string, FileDescriptorProto>();
  const collect = (answers: Awaited<ReturnType<typeof ask>>) => {
    for (const answer of answers) {
      if (answer.case !== "fileDescriptorResponse") throw new Error(`${baseUrl}: reflection could not describe ${answer.case}`);
      for (const bytes of answer.value.fileDescriptorProto) {
        const file = fromBinary(FileDescriptorProtoSchema, bytes);
        files.set(file.name, file);
      }
    }
  };
  collect(await ask(names.map((value) => ({ case: "fileContainingSymbol" as const, value }))));
  // A server may leave out files it sent before on the stream: ask for the missing imports by name.
  for (let missing = missingImports(files); missing.length > 0; missing = missingImports(files)) {
    collect(await ask(missing.map((value) => ({ case: "fileByFilename" as const, value }))));
  }
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: importsFirst(files) }));
  return names.map((name) => {
    const service = registry.getService(name);
    if (!service) throw new Error(`${baseUrl}: reflection listed ${name} but did not describe it`);
    return service;
  });
}

/** The files in an order where each comes after everything it imports (a registry needs that). */
function importsFirst(files: Map<string, FileDescriptorProto>): FileDescriptorProto[] {
  const ordered: FileDescriptorProto[] = [];
  const placed = new Set<string>();
  const place = (file: FileDescriptorProto) => {
    if (placed.has(file.name)) return;
    placed.add(file.name);
    for (const name of file.dependency) {
      const dependency = files.get(name);
      if (dependency) place(dependency);
    }
    ordered.push(file);
  };
  for (const file of files.values()) place(file);
  return ordered;
}

function missingImports(files: Map<string, FileDescriptorProto>): string[] {
  return [...new Set([...files.values()].flatMap((f) => f.dependency))].filter((name) => !files.has(name));
}

/** Every RPC of every platform service served on these ports. */
export async function reflectMethods(baseUrls: string[]): Promise<ReflectedMethod[]> {
  const methods: ReflectedMethod[] = [];
  for (const baseUrl of baseUrls) {
    for (const service of await reflectServices(baseUrl)) {
      for (const method of service.methods) methods.push({ baseUrl, service, method, procedure: `${service.typeName}/${method.name}` });
    }
  }
  return methods;
}
