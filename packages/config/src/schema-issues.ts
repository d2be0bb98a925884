import { validateOptions, type OptionsSchema } from '@memshed/core';
import { didYouMean } from '@memshed/core';
import type { z } from '@memshed/options';
import { describeValue } from './config-error';

/** A problem found by a schema, before it is placed in a file. */
export interface SchemaProblem {
  /** Key path below the validated value. */
  readonly path: readonly (string | number)[];
  /** What is wrong. */
  readonly problem: string;
  /** What to do, when there is more to say than the problem. */
  readonly fix?: string;
}

type AnyZod = z.ZodType;

/** Whether a Standard Schema is a zod 4 schema, whose internals give richer messages. */
export function isZodSchema(schema: unknown): schema is AnyZod {
  return typeof schema === 'object' && schema !== null && '_zod' in schema;
}

/**
 * Validates `input` with any Standard Schema (zod 4 gets messages with the received value and
 * "did you mean" for unknown keys and enum values). Synchronous, like plugin option schemas.
 */
export function checkWithSchema<T>(
  schema: OptionsSchema<T>,
  input: unknown,
): { ok: true; value: T } | { ok: false; problems: SchemaProblem[] } {
  if (isZodSchema(schema)) {
    // An omitted `with:` means "all defaults", as core's validateOptions reads it.
    const result = schema.safeParse(input === undefined ? {} : input);
    if (result.success) return { ok: true, value: result.data as T };
    return {
      ok: false,
      problems: result.error.issues.flatMap((issue) => describeZodIssue(schema, input, issue)),
    };
  }
  const result = validateOptions(schema, input);
  if (result.ok) return result;
  return {
    ok: false,
    problems: result.issues.map((issue) => ({
      path: splitPath(issue.path),
      problem: lowerFirst(issue.message),
    })),
  };
}

function describeZodIssue(root: AnyZod, input: unknown, issue: z.core.$ZodIssue): SchemaProblem[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  const value = valueAt(input, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = objectKeys(schemaAt(root, path));
      return issue.keys.map((key) => {
        const suggestion = didYouMean(key, allowed);
        const list = allowed.length ? `Allowed here: ${allowed.join(', ')}.` : 'No keys are allowed here.';
        return {
          path: [...path, key],
          problem: `unknown key '${key}'`,
          fix: suggestion ? `${list} Did you mean '${suggestion}'?` : list,
        };
      });
    }
    case 'invalid_type': {
      if (value === undefined && !isCustomMessage(issue)) {
        return [{ path, problem: `required: expected ${article(issue.expected)}` }];
      }
      if (isCustomMessage(issue)) return [{ path, problem: issue.message }];
      return [{ path, problem: `expected ${article(issue.expected)}, got ${describeValue(value)}` }];
    }
    case 'too_big':
    case 'too_small': {
      if (isCustomMessage(issue)) return [{ path, problem: issue.message }];
      const bound = issue.code === 'too_big' ? issue.maximum : issue.minimum;
      const op = issue.code === 'too_big' ? (issue.inclusive ? '<=' : '<') : issue.inclusive ? '>=' : '>';
      if (issue.origin === 'array' || issue.origin === 'set') {
        const what = issue.code === 'too_big' ? 'at most' : 'at least';
        return [{ path, problem: `expected ${what} ${String(bound)} item(s), got ${countOf(value)}` }];
      }
      if (issue.origin === 'string') {
        const what = issue.code === 'too_big' ? 'at most' : 'at least';
        return [
          { path, problem: `expected ${what} ${String(bound)} character(s), got ${describeValue(value)}` },
        ];
      }
      return [{ path, problem: `out of range: must be ${op} ${String(bound)}, got ${describeValue(value)}` }];
    }
    case 'invalid_value': {
      if (isCustomMessage(issue)) return [{ path, problem: issue.message }];
      const values = issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      const suggestion = typeof value === 'string' ? didYouMean(value, values) : undefined;
      return [
        {
          path,
          problem: `expected one of ${values.join(', ')}, got ${describeValue(value)}`,
          ...(suggestion ? { fix: `Did you mean '${suggestion}'?` } : {}),
        },
      ];
    }
    case 'invalid_union': {
      // Report the branch that went furthest: a nested key problem beats "invalid input".
      const nested = issue.errors.flat().filter((inner) => inner.path.length > 0);
      if (!isCustomMessage(issue) && nested.length > 0) {
        return nested.flatMap((inner) =>
          describeZodIssue(root, input, {
            ...inner,
            path: [...issue.path, ...inner.path],
          } as z.core.$ZodIssue),
        );
      }
      return [{ path, problem: lowerFirst(issue.message) }];
    }
    default:
      return [{ path, problem: lowerFirst(issue.message) }];
  }
}

// zod's own messages start with a capital ("Invalid input: ..."); memshed's schemas write lower case.
function isCustomMessage(issue: z.core.$ZodIssue): boolean {
  return /^[a-z'"]/.test(issue.message);
}

function article(type: string): string {
  if (type === 'array') return 'a list';
  if (type === 'object') return 'an object';
  if (type === 'int') return 'an integer';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function countOf(value: unknown): string {
  return Array.isArray(value) ? String(value.length) : describeValue(value);
}

function lowerFirst(text: string): string {
  return text.replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase());
}

function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    out.push(match[2] !== undefined ? Number(match[2]) : match[1]);
  }
  return out;
}

/** The value at `path` in `input`, or undefined. */
export function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let current = input;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

type Def = {
  type: string;
  innerType?: AnyZod;
  in?: AnyZod;
  shape?: Record<string, AnyZod>;
  element?: AnyZod;
  options?: AnyZod[];
  valueType?: AnyZod;
};

function defOf(schema: AnyZod): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(schema: AnyZod): AnyZod {
  let current = schema;
  for (let i = 0; i < 32; i++) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else break;
  }
  return current;
}

/** The sub-schema at `path` (unwrapped), for listing the keys allowed there. */
export function schemaAt(root: AnyZod, path: readonly (string | number)[]): AnyZod | undefined {
  let current: AnyZod | undefined = unwrap(root);
  for (const segment of path) {
    if (!current) return undefined;
    const def = defOf(current);
    if (def.type === 'object' && typeof segment === 'string') current = def.shape?.[segment];
    else if (def.type === 'array' && typeof segment === 'number') current = def.element;
    else if (def.type === 'record') current = def.valueType;
    else if (def.type === 'union') {
      current = def.options?.map(unwrap).find((option) => {
        const inner = defOf(option);
        return typeof segment === 'string'
          ? inner.type === 'object' && inner.shape?.[segment]
          : inner.type === 'array';
      });
      if (current) current = schemaAt(current, [segment]);
    } else return undefined;
    current = current ? unwrap(current) : undefined;
  }
  return current;
}

function objectKeys(schema: AnyZod | undefined): string[] {
  if (!schema) return [];
  const def = defOf(schema);
  if (def.type === 'object' && def.shape) return Object.keys(def.shape);
  if (def.type === 'union') return [...new Set(def.options?.map(unwrap).flatMap((o) => objectKeys(o)) ?? [])];
  return [];
}
