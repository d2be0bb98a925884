/**
 * Finds where a JSON text first goes wrong, for a message with a line and a column: V8's
 * `JSON.parse` messages do not always carry a position ("Unexpected token '}', ... is not valid
 * JSON"). Only called after `JSON.parse` failed; a small recursive-descent checker of RFC 8259.
 */
export function findJsonSyntaxError(text: string): { offset: number; problem: string } {
  let at = 0;
  const fail = (problem: string, offset = at): never => {
    throw new JsonSyntaxError(offset, problem);
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  };
  const found = () => (at >= text.length ? 'the end of the file' : `'${text[at]}'`);
  const value = (): void => {
    space();
    const c = text[at];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return;
      }
    }
    if (c === "'") fail('strings need double quotes in JSON, not single quotes');
    fail(`expected a value, found ${found()}`);
  };
  // An object's members or a list's items, from the opening bracket to `close`: each one followed
  // by a comma or the closing bracket (RFC 8259 allows no trailing comma).
  const members = (close: '}' | ']', member: () => void, what: string) => {
    at++;
    space();
    if (text[at] === close) {
      at++;
      return;
    }
    for (;;) {
      space();
      member();
      space();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === close) {
        at++;
        return;
      }
      fail(`expected ',' or '${close}' after ${what}, found ${found()}`);
    }
  };
  const object = () =>
    members(
      '}',
      () => {
        if (text[at] === "'") fail('strings need double quotes in JSON, not single quotes');
        if (text[at] !== '"') {
          fail(
            text[at] === '}'
              ? 'trailing comma before }'
              : `expected a double-quoted property name, found ${found()}`,
          );
        }
        string();
        space();
        if (text[at] !== ':') fail(`expected ':' after the property name, found ${found()}`);
        at++;
        value();
      },
      'a property value',
    );
  const array = () =>
    members(
      ']',
      () => {
        if (text[at] === ']') fail('trailing comma before ]');
        value();
      },
      'a list item',
    );
  const string = () => {
    const start = at++;
    while (at < text.length && text[at] !== '"') {
      if (text[at] === '\\') at++;
      else if (text.charCodeAt(at) < 0x20) fail('unescaped control character in a string');
      at++;
    }
    if (at >= text.length) fail('unterminated string', start);
    at++;
  };
  const number = () => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at));
    if (!match) fail(`invalid number`);
    at += match![0].length;
  };

  try {
    space();
    if (at >= text.length) return { offset: 0, problem: 'the file is empty' };
    value();
    space();
    if (at < text.length) fail(`unexpected ${found()} after the end of the JSON value`);
    return { offset: 0, problem: 'invalid JSON' };
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { offset: error.offset, problem: error.problem };
    throw error;
  }
}

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {
    super(problem);
  }
}

/** 1-based line and column of `offset` in `text`. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
