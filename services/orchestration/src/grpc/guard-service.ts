import type { DescService } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { callerOf } from "@cloudforet/runtime";
import { isOperation, operationOf, requireOperation } from "../access/orchestration-access";
import type { TenantGrants } from "../access/tenant-grants";
import { grantedTenantsKey } from "./grpc-mapping";

type AnyHandler = (req: unknown, ctx: HandlerContext) => unknown;

/**
 * The service's handlers with the role check of orchestration-access in front of every method of
 * its descriptor. Built from the descriptor, not the handlers, so a new RPC cannot slip through:
 * one missing from the table stops the service at start-up. With `grants`, an API key's tenant
 * grants are loaded for the handlers (grpc-mapping's ownerOf/scopeOf enforce them).
 */
export function guardService<S extends DescService>(service: S, impl: ServiceImpl<S>, grants?: TenantGrants): ServiceImpl<S> {
  const admit = async (ctx: HandlerContext, operation: Parameters<typeof requireOperation>[1]) => {
    const caller = callerOf(ctx);
    requireOperation(caller, operation);
    if (grants && caller.apiKeyId) ctx.values.set(grantedTenantsKey, await grants.tenantsOf(caller.domainId, caller.apiKeyId));
  };
  const guarded: Record<string, AnyHandler> = {};
  const handlers = impl as unknown as Record<string, AnyHandler | undefined>;
  for (const method of service.methods) {
    const operation = operationOf(service, method.name);
    if (!isOperation(operation)) throw new Error(`orchestration-access has no level for ${operation}; add it before serving the RPC`);
    const handler = handlers[method.localName];
    if (!handler) continue; // connect answers UNIMPLEMENTED for it
    guarded[method.localName] =
      method.methodKind === "server_streaming"
        ? async function* (req, ctx) {
            await admit(ctx, operation);
            yield* handler(req, ctx) as AsyncIterable<unknown>;
          }
        : async (req, ctx) => {
            await admit(ctx, operation);
            return handler(req, ctx);
          };
  }
  return guarded as unknown as ServiceImpl<S>;
}
