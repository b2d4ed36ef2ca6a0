/** Longest text taken from a peer (a worker's error message, an HTTP error text) into an instance. */
export const MAX_PEER_TEXT = 2048;

/** NUL (Postgres text cannot hold it), other C0 controls but tab/newline, and unpaired surrogates. */
const UNSTORABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\p{Cs}/gu;

/**
 * A peer's text made safe to store and show: unstorable characters become U+FFFD and the text is
 * cut at `max` characters (without splitting a surrogate pair), so a hostile worker or server
 * cannot fill a row, a log line or a Watch stream with megabytes or break the insert with a NUL.
 */
export function boundPeerText(text: string, max = MAX_PEER_TEXT): string {
  let cut = text.length > max ? text.slice(0, max) : text;
  // Slicing may leave the first half of a pair at the end: the replacement below turns it into U+FFFD, drop it instead.
  if (cut.length < text.length && /[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(UNSTORABLE, "\ufffd");
  return cut.length < text.length ? `${cut}…` : cut;
}
