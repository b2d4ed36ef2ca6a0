import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { RateLimitService } from "@cloudforet/proto/cloudforet/orchestration/v1/rate_limit_pb";
import { ownerOf, scopeOf } from "../grpc/grpc-mapping";
import { pageOf } from "../instances/instances";
import type { RateLimits } from "./rate-limits";
import { rateLimitMessage } from "./to-message";

/** RateLimitService: the limits of the caller's domain (the tenant), as for the other services of this package. */
export function rateLimitHandlers(rateLimits: RateLimits): ServiceImpl<typeof RateLimitService> {
  const tenant = (ctx: HandlerContext) => ownerOf(ctx, undefined);
  return {
    async set(req, ctx) {
      return rateLimitMessage(await rateLimits.set(tenant(ctx), req.key, { maxCount: req.maxCount, window: req.window }));
    },
    async get(req, ctx) {
      return rateLimitMessage(await rateLimits.get(tenant(ctx), req.key));
    },
    async list(req, ctx) {
      const { results, totalCount } = await rateLimits.list(scopeOf(ctx), pageOf(req.offset, req.limit));
      return { results: results.map(rateLimitMessage), totalCount };
    },
    async delete(req, ctx) {
      await rateLimits.delete(tenant(ctx), req.key);
      return {};
    },
  };
}
