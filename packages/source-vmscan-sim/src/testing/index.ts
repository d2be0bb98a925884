/**
 * Test helpers for code that renders plots (`@memshed/source-vmscan-sim/testing`).
 */

/**
 * The first way `markup` is not well-formed XML as far as its tags go (a closing tag that does
 * not match the open one, or tags left open), or undefined when every tag opens and closes in
 * order. Enough to check a hand-written SVG; not an XML parser.
 */
export function tagNestingProblem(markup: string): string | undefined {
  const stack: string[] = [];
  for (const match of markup.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (!closing) {
      stack.push(name);
      continue;
    }
    const open = stack.pop();
    if (open !== name)
      return `</${name}> at offset ${match.index} ${open ? `does not close <${open}>` : 'closes nothing'}`;
  }
  return stack.length ? `left open: ${stack.map((name) => `<${name}>`).join(', ')}` : undefined;
}
