/**
 * Terminal control characters (C0 but newline, DEL, C1) and the Unicode direction overrides that
 * reorder what is shown ("Trojan Source"). Names, errors and store lines come from agents and MCP
 * servers: printed raw, an escape sequence in a tool name could retitle or clear the terminal,
 * hide lines, or paint what follows.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what is matched
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every terminal control character shown as its `\uXXXX` escape (newlines kept). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
