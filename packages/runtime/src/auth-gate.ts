import type { HandlerContext } from "@connectrpc/connect";
import { authenticateFailure } from "@cloudforet/errors";
import { bearerToken, publicProcedures, type TokenVerifier } from "./auth";
import { callerKey } from "./caller";

/**
 * Checks a call's credentials before its body is read; throws (a PlatformError) to refuse it.
 * "public": a procedure anyone may call (no credentials needed).
 */
export type RequestAuthenticator = (ctx: Pick<HandlerContext, "service" | "method" | "requestHeader" | "values">) => Promise<"public" | "authenticated">;

/**
 * Authentication before the body (Connect's request gate, which runs before a byte of the body is
 * read in every protocol): a call to a procedure that is not public needs a valid
 * `Authorization: Bearer` token, or it is refused UNAUTHENTICATED with nothing of its body buffered.
 * The verified caller goes into the call's own context values, where the auth interceptor finds it
 * and does not verify the token a second time. `verifier` is read per call (the service host builds
 * its verifier after the service).
 */
export function authenticationGate(verifier: () => TokenVerifier | undefined, open: ReadonlySet<string> = publicProcedures): RequestAuthenticator {
  return async (ctx) => {
    if (open.has(`${ctx.service.typeName}/${ctx.method.name}`)) return "public";
    const token = bearerToken(ctx.requestHeader.get("authorization"));
    const verify = verifier();
    if (!token || !verify) throw authenticateFailure("Authentication required: send Authorization: Bearer <token>");
    ctx.values.set(callerKey, await verify(token));
    return "authenticated";
  };
}
