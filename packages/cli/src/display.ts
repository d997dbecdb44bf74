/**
 * Characters that must not reach a terminal as they are: C0 controls (ESC
 * starts ANSI sequences, CR and LF fake lines), DEL, C1 controls (U+009B is
 * a one-character CSI), the line and paragraph separators, and the bidi
 * marks, embeddings, overrides and isolates that reorder what is shown
 * (CVE-2021-42574, "Trojan Source").
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * A string from elsewhere (a remote file name, peer id, address or error
 * message; a path) made safe to print on a terminal: every unsafe character
 * becomes visible text (`\x1b`, `\n`, `\u202e`), so it can neither move the
 * cursor, clear the screen, start a new line nor reorder the text. Used for
 * every remote string the CLI prints; JSON output is left to JSON escaping.
 */
export function displayText(value: unknown): string {
  return String(value).replace(UNSAFE, (c) => {
    const named = NAMED[c]
    if (named) return named
    const code = c.charCodeAt(0)
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
