import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const DOCS = join(ROOT, 'docs', 'integrations');
const MARKER = /<!-- snippet: ([^#\s]+)(?:#([\w-]+))? -->\n```\w*\n([\s\S]*?)\n```/g;

/** The lines between `// #region name` and `// #endregion name`, dedented. */
function region(source: string, name: string, file: string): string {
  const lines = source.split('\n');
  const start = lines.findIndex((line) => line.trim() === `// #region ${name}`);
  const end = lines.findIndex((line, index) => index > start && line.trim() === `// #endregion ${name}`);
  if (start < 0 || end < 0) throw new Error(`${file} has no region '${name}'`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((line) => line.trim() !== '').map((line) => line.search(/\S/)));
  return body.map((line) => line.slice(indent)).join('\n');
}

/** A whole file, without its leading comment lines. */
function whole(source: string): string {
  const lines = source.trimEnd().split('\n');
  while (lines.length > 0 && lines[0].startsWith('#')) lines.shift();
  return lines.join('\n');
}

function snippets() {
  return readdirSync(DOCS)
    .filter((file) => file.endsWith('.md'))
    .flatMap((file) =>
      [...readFileSync(join(DOCS, file), 'utf8').matchAll(MARKER)].map(([, source, name, code]) => ({
        doc: file,
        source,
        name,
        code,
      })),
    );
}

describe('docs/integrations snippets', () => {
  const all = snippets();

  it('are found (http, prometheus, electron and kubernetes docs quote the examples)', () => {
    expect(new Set(all.map((s) => s.doc))).toEqual(
      new Set(['electron.md', 'http.md', 'kubernetes.md', 'prometheus.md']),
    );
  });

  it.each(all.map((s) => [`${s.doc}: ${s.source}${s.name ? `#${s.name}` : ''}`, s] as const))(
    '%s is the code the example runs',
    (_label, snippet) => {
      const source = readFileSync(join(ROOT, snippet.source), 'utf8');
      const expected = snippet.name ? region(source, snippet.name, snippet.source) : whole(source);
      expect(snippet.code).toBe(expected);
    },
  );
});
