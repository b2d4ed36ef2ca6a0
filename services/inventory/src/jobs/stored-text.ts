/** Longest peer-supplied line stored on a task or job (UTF-8 bytes, the marker included). */
export const MAX_STORED_TEXT_BYTES = 2048;

const marker = "… (truncated)";
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const controls = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/**
 * A plugin's or peer's text made safe to store and show: Postgres refuses NUL in text and JSON, and
 * a lone UTF-16 surrogate cannot be encoded, so either would fail the whole write (and leave the
 * job IN_PROGRESS until its timeout); both are dropped. A longer text is cut at a character
 * boundary to MAX_STORED_TEXT_BYTES, so one plugin cannot fill a task with a 60 KB message.
 */
export function storedText(text: string, maxBytes = MAX_STORED_TEXT_BYTES): string {
  // Lone surrogates become U+FFFD; NUL and the other C0 controls but tab and newline go.
  const clean = text.replace(loneSurrogate, "\ufffd").replace(controls, "");
  if (Buffer.byteLength(clean) <= maxBytes) return clean;
  const room = maxBytes - Buffer.byteLength(marker);
  // A character cut in half decodes as one U+FFFD at the end, which goes.
  const cut = Buffer.from(clean).subarray(0, room).toString("utf8").replace(/\ufffd$/, "");
  return `${cut}${marker}`;
}
