import type { RequestOptions, ResponseInfo } from "./rpc";

/**
 * The result of a call together with its response headers and request id, like the raw
 * responses of seed 001's SDK:
 *
 * ```ts
 * const { data, response } = await withResponse((o) => client.cloudServices.get(id, o));
 * console.log(response.requestId, response.headers.get("content-type"));
 * ```
 * The last call made with the given options is the one reported (a handle method may make one call only).
 */
export async function withResponse<T>(
  call: (options: RequestOptions) => Promise<T>,
  options: RequestOptions = {},
): Promise<{ data: T; response: ResponseInfo }> {
  let response: ResponseInfo | undefined;
  const data = await call({
    ...options,
    onResponse: (info) => {
      response = info;
      options.onResponse?.(info);
    },
  });
  if (!response) throw new TypeError("withResponse: the function made no call with the options it was given");
  return { data, response };
}
