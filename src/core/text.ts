/** Control characters (C0, DEL, C1) and the bidirectional overrides that can reorder what a terminal shows. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Text from a file (a run's name, a column) made safe to print: control and bidi characters are
 * shown as escapes (`\u001b`), so a run.json cannot clear the screen or reverse a line.
 */
export function safeText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

/** A name from a data file quoted in a message: safe, and at most `most` characters of it. */
export function quotedPrefix(text: string, most = 24): string {
  const safe = safeText(text);
  return safe.length > most ? `${safe.slice(0, most)}...` : safe;
}
