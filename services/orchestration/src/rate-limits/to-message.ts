import type { RateLimitRow } from "../db/schema";
import { ts } from "../grpc/grpc-mapping";
import { formatWindow } from "./rate-limits";

export function rateLimitMessage(row: RateLimitRow) {
  return {
    tenantId: row.tenantId,
    key: row.key,
    maxCount: row.maxCount,
    window: formatWindow(row.windowMs),
    windowMs: BigInt(row.windowMs),
    createdAt: ts(row.createdAt),
    updatedAt: ts(row.updatedAt),
  };
}
