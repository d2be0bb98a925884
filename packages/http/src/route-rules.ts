import { MemshedError } from '@memshed/core';
import { checkRoutePriority, type RoutePriority } from './route-priority';

/**
 * Gives the requests of some routes a priority. The first rule that matches wins.
 *
 * @example
 * { path: '/healthz', priority: 'essential' }          // exactly /healthz
 * { path: '/admin/*', priority: 'essential' }          // /admin and everything below it
 * { path: /^\/reports\//, method: 'POST', priority: 'low' }
 */
export interface RouteRule {
  /**
   * The request path (without the query string): a string matches exactly, or, ending in `/*`,
   * the path before it and everything below; a RegExp is tested against the path.
   */
  readonly path: string | RegExp;
  /** Only requests with this method (or one of these). A `GET` rule also matches `HEAD`. Default: any. */
  readonly method?: string | readonly string[];
  /** The priority of matching requests. */
  readonly priority: RoutePriority;
}

/** A rule prepared for matching: one comparison per request and rule, no allocation. */
export interface CompiledRouteRule {
  readonly priority: RoutePriority;
  matches(method: string, path: string): boolean;
}

/**
 * Prepares rules for {@link matchRoute}.
 *
 * @throws MemshedError `invalid-argument` for a rule without a path or with an unknown priority.
 */
export function compileRouteRules(rules: readonly RouteRule[]): readonly CompiledRouteRule[] {
  return rules.map((rule, index) => {
    const where = `routes[${index}]`;
    const priority = checkRoutePriority(rule?.priority, `${where}.priority`);
    const methods = rule.method === undefined ? undefined : methodSet(rule.method, where);
    const path = pathMatcher(rule.path, where);
    return {
      priority,
      matches: methods
        ? (method: string, candidate: string) => methods.has(method.toUpperCase()) && path(candidate)
        : (_method: string, candidate: string) => path(candidate),
    };
  });
}

/** The priority of the first rule matching `method` and `path`, or undefined. */
export function matchRoute(
  rules: readonly CompiledRouteRule[],
  method: string,
  path: string,
): RoutePriority | undefined {
  for (const rule of rules) if (rule.matches(method, path)) return rule.priority;
  return undefined;
}

/** The path of a request target: `/a/b?x=1#y` -> `/a/b`. */
export function pathnameOf(url: string | undefined): string {
  if (url === undefined || url === '') return '/';
  let end = url.length;
  const query = url.indexOf('?');
  if (query >= 0) end = query;
  const hash = url.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  return end === url.length ? url : url.slice(0, end);
}

function methodSet(method: string | readonly string[], where: string): ReadonlySet<string> {
  const list = typeof method === 'string' ? [method] : [...method];
  if (list.length === 0 || list.some((m) => typeof m !== 'string' || m === '')) {
    throw new MemshedError('invalid-argument', `${where}.method must be a method name or a list of them`, {
      fix: "write method: 'GET' or method: ['GET', 'POST']",
    });
  }
  const set = new Set(list.map((m) => m.toUpperCase()));
  // Express and Fastify answer HEAD with the GET route: a GET rule covers it too.
  if (set.has('GET')) set.add('HEAD');
  return set;
}

function pathMatcher(path: string | RegExp, where: string): (path: string) => boolean {
  if (path instanceof RegExp) {
    // A global or sticky RegExp keeps state between test() calls: match with a stateless copy.
    const regexp =
      path.global || path.sticky ? new RegExp(path.source, path.flags.replace(/[gy]/g, '')) : path;
    return (candidate) => regexp.test(candidate);
  }
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new MemshedError('invalid-argument', `${where}.path must be a path starting with '/' or a RegExp`, {
      fix: "write path: '/healthz', path: '/admin/*' or path: /^\\/reports\\//",
    });
  }
  if (path.endsWith('/*')) {
    const base = path.slice(0, -2);
    const prefix = `${base}/`;
    return (candidate) => candidate === base || candidate.startsWith(prefix);
  }
  return (candidate) => candidate === path;
}
