// Lets policies name the `namespace` variable although CEL reserves the word as an identifier.
//
// CEL's grammar refuses `namespace` as a standalone identifier (it may still be a field: `x.namespace`), yet
// the variable contract is `namespace.labels[...]`. Before parsing, each standalone `namespace` token outside
// string literals and comments becomes an internal name; positions and messages are mapped back.

/** Internal name the `namespace` variable is bound to. */
export const NAMESPACE_VARIABLE = "__namespace__";
const RESERVED_VARIABLE = "namespace";

export interface Rewritten {
  readonly source: string;
  /** Maps an offset in the rewritten source back to the policy author's source. */
  originalOffset(offset: number): number;
  /** Speaks of the variable by the name the author wrote. */
  restoreNames(message: string): string;
}

export function rewriteReservedVariables(source: string): Rewritten {
  let out = "";
  /** Offsets (in the rewritten source) after which the text has shifted by one more replacement. */
  const shifts: number[] = [];
  let i = 0;
  let previousSignificant = "";
  while (i < source.length) {
    const ch = source.charAt(i);
    if (ch === "/" && source.charAt(i + 1) === "/") {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? source.length : end;
      out += source.slice(i, stop);
      i = stop;
      continue;
    }
    const literal = stringLiteralLength(source, i);
    if (literal > 0) {
      out += source.slice(i, i + literal);
      i += literal;
      previousSignificant = '"';
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      let end = i + 1;
      while (end < source.length && /[A-Za-z0-9_]/.test(source.charAt(end))) end++;
      const word = source.slice(i, end);
      if (word === RESERVED_VARIABLE && previousSignificant !== ".") {
        out += NAMESPACE_VARIABLE;
        shifts.push(out.length);
      } else {
        out += word;
      }
      i = end;
      previousSignificant = "a";
      continue;
    }
    out += ch;
    if (!/\s/.test(ch)) previousSignificant = ch;
    i++;
  }
  const delta = NAMESPACE_VARIABLE.length - RESERVED_VARIABLE.length;
  return {
    source: out,
    originalOffset: (offset) => offset - delta * shifts.filter((s) => s <= offset).length,
    restoreNames: (message) => message.replaceAll(NAMESPACE_VARIABLE, RESERVED_VARIABLE),
  };
}

/** Length of the string or bytes literal starting at `i` (with its r/b prefixes), or 0 if none starts there. */
function stringLiteralLength(source: string, i: number): number {
  let j = i;
  let raw = false;
  while (j < source.length && j - i < 2 && /[rRbB]/.test(source.charAt(j))) {
    if (/[rR]/.test(source.charAt(j))) raw = true;
    j++;
  }
  const quote = source.charAt(j);
  if (quote !== '"' && quote !== "'") return 0;
  // A prefix letter is only a prefix when no identifier character precedes it.
  if (j > i && i > 0 && /[A-Za-z0-9_]/.test(source.charAt(i - 1))) return 0;
  const triple = source.startsWith(quote.repeat(3), j);
  const close = triple ? quote.repeat(3) : quote;
  let k = j + close.length;
  while (k < source.length) {
    if (!raw && source.charAt(k) === "\\") {
      k += 2;
      continue;
    }
    if (source.startsWith(close, k)) return k + close.length - i;
    if (!triple && source.charAt(k) === "\n") break;
    k++;
  }
  // Unterminated: leave the rest as is; the parser reports it.
  return source.length - i;
}
