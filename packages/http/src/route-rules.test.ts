import { compileRouteRules, matchRoute, pathnameOf } from './route-rules';

describe(pathnameOf, () => {
  it.each([
    [undefined, '/'],
    ['', '/'],
    ['/a/b', '/a/b'],
    ['/a/b?x=1', '/a/b'],
    ['/a#frag?x', '/a'],
    ['/a?x=#y', '/a'],
  ])('%p -> %p', (url, expected) => {
    expect(pathnameOf(url)).toBe(expected);
  });
});

describe(matchRoute, () => {
  const rules = compileRouteRules([
    { path: '/healthz', priority: 'essential' },
    { path: '/admin/*', priority: 'essential' },
    { path: /^\/api\/v\d+\/export/g, method: ['post', 'PUT'], priority: 'background' },
    { path: '/api/*', method: 'GET', priority: 'low' },
  ]);

  it.each([
    ['GET', '/healthz', 'essential'],
    ['GET', '/healthz/deep', undefined],
    ['GET', '/admin', 'essential'],
    ['DELETE', '/admin/users/1', 'essential'],
    ['GET', '/administrator', undefined],
    ['POST', '/api/v2/export', 'background'],
    // A global RegExp keeps lastIndex between test() calls: the rule must not alternate.
    ['POST', '/api/v2/export', 'background'],
    ['PUT', '/api/v1/export/7', 'background'],
    ['GET', '/api/v2/export', 'low'],
    ['HEAD', '/api/items', 'low'],
    ['POST', '/api/items', undefined],
  ])('%s %s -> %p', (method, path, expected) => {
    expect(matchRoute(rules, method, path)).toBe(expected);
  });
});

describe(compileRouteRules, () => {
  it.each([
    [[{ path: '/x', method: [], priority: 'low' }], /routes\[0\].method must be a method name/],
    [[{ path: 42, priority: 'low' }], /routes\[0\].path must be a path starting with '\/'/],
    [[{ path: '/x', priority: 'low' }, { path: '/y' }], /routes\[1\].priority: unknown route priority/],
  ])('refuses %j', (rules, message) => {
    expect(() => compileRouteRules(rules as never)).toThrow(message);
  });
});
