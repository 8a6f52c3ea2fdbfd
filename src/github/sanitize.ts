// Issue and comment text is untrusted and goes into the model's prompt. Remove what a human reviewer would not see
// (HTML comments, hidden elements, zero-width and bidi control characters, image alt text tricks) and bound the size,
// so the request the model reads is the request the humans read.

export const MAX_REQUEST_CHARS = 16_000;

// Zero-width, bidi overrides/isolates, BOM, soft hyphen, tag characters.
const INVISIBLE = /[\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|[\u{E0000}-\u{E007F}]/gu;

export function sanitizeUserText(text: string, maxChars = MAX_REQUEST_CHARS): string {
  let out = text.replace(/\r\n?/g, '\n');
  // Bound first so a megabyte body does not cost regex time.
  if (out.length > maxChars * 4) out = out.slice(0, maxChars * 4);
  out = out
    .replace(/<!--[\s\S]*?(?:-->|$)/g, '')
    .replace(/<(details|summary)[^>]*>/gi, '')
    .replace(/<\/(details|summary)>/gi, '')
    .replace(/<([a-z][a-z0-9]*)\b[^>]*\b(hidden|style\s*=\s*["'][^"']*display\s*:\s*none)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<img\b[^>]*>/gi, '[image]')
    .replace(/<\/?[a-z][a-z0-9-]*\b[^>]*>/gi, '')
    .replace(INVISIBLE, '')
    // control characters except tab and newline
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (out.length > maxChars)
    out = `${out.slice(0, maxChars)}\n[… cut: the request was longer than ${maxChars} characters]`;
  return out;
}
