import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Spreading an array into a call (`list.push(...changes)`, `Math.max(...sizes)`) puts every element on the
// stack as an argument: past about 120,000 elements it throws "Maximum call stack size exceeded". An
// organization may have a million members and as many changes, so no source spreads into a call; a loop (or
// `reduce`) does the same at any size. Array and object literals (`[...a, ...b]`) are not calls and are fine.
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** `file:line: call` for every call or `new` with a spread argument. */
function spreadCalls(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments?.some(ts.isSpreadElement)) {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      out.push(`${relative(SRC, file)}:${line + 1}: ${node.getText(sf).replace(/\s+/g, ' ').slice(0, 80)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('no spread arguments', () => {
  it('finds a spread argument where there is one', () => {
    const sf = ts.createSourceFile('x.ts', 'out.push(...changes); const a = [...b, ...c];', ts.ScriptTarget.ES2022, true);
    const calls: string[] = [];
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && node.arguments.some(ts.isSpreadElement)) calls.push(node.getText(sf));
      ts.forEachChild(node, visit);
    };
    visit(sf);
    expect(calls).toEqual(['out.push(...changes)']);
  });

  it('no source file spreads an array into a call', () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap(spreadCalls)).toEqual([]);
  });
});
