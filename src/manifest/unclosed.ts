/**
 * When a quoted string or a flow collection is never closed, the YAML parser notices only where the text
 * runs out or the next line starts, and reports that place. This finds the opening quote or bracket, which
 * is where the user must look. A small scan: quotes, flow brackets and comments, nothing more.
 */
export interface Unclosed {
  offset: number;
  opener: '"' | "'" | '[' | '{';
}

const CLOSER = { '[': ']', '{': '}' } as const;

/** Whether the character at `i` begins a scalar or collection (not a quote inside a plain word like it's). */
function startsNode(text: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && (text[j] === ' ' || text[j] === '\t')) j--;
  if (j < 0 || text[j] === '\n') return true;
  return ':-[{,?'.includes(text[j]!);
}

export function findUnclosed(text: string, upTo: number = text.length): Unclosed | undefined {
  const stack: Unclosed[] = [];
  let quote: Unclosed | undefined;
  for (let i = 0; i < Math.min(upTo, text.length); i++) {
    const c = text[i]!;
    if (quote) {
      if (quote.opener === '"') {
        if (c === '\\') i++;
        else if (c === '"') quote = undefined;
      } else if (c === "'") {
        if (text[i + 1] === "'") i++;
        else quote = undefined;
      }
      continue;
    }
    if (c === '#' && (i === 0 || ' \t\n'.includes(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      if (end === -1) break;
      i = end;
      continue;
    }
    if ((c === '"' || c === "'") && startsNode(text, i)) quote = { offset: i, opener: c };
    else if ((c === '[' || c === '{') && startsNode(text, i)) stack.push({ offset: i, opener: c });
    else if ((c === ']' || c === '}') && stack.length && CLOSER[stack[stack.length - 1]!.opener as '[' | '{'] === c) stack.pop();
  }
  return quote ?? stack[stack.length - 1];
}

/** js-yaml reasons that mean "something opened earlier was never closed". */
export function isUnclosedReason(reason: string): boolean {
  return /end of the stream within|missed comma between flow collection entries|unexpected end of the stream/.test(reason);
}

export function describeUnclosed(u: Unclosed): string {
  switch (u.opener) {
    case '"':
      return 'this double-quoted string is never closed (missing closing quote)';
    case "'":
      return 'this single-quoted string is never closed (missing closing quote)';
    case '[':
      return 'this flow sequence "[" is never closed (missing "]")';
    case '{':
      return 'this flow mapping "{" is never closed (missing "}")';
  }
}
