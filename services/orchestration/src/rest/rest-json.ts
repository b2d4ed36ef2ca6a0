/** RFC 3339 as the gRPC JSON prints it: no fraction when it is zero ("2024-01-15T10:00:00Z"). */
export function timestampJson(at: Date | null | undefined): string | null {
  if (!at) return null;
  return at.toISOString().replace(/\.000Z$/, "Z");
}
