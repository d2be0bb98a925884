/**
 * The RxJS values memshed's packages use at run time, each required from its own module:
 * `import { Subject, interval } from '@memshed/core/rx'`.
 *
 * Why not `from 'rxjs'`: its CommonJS index requires every module of the library, and on Node 20
 * start-up cost is per module file loaded, not per feature used; these values pull in a fraction
 * of them (the figures are in docs/benchmarks.md, "Footprint"). They are the same module instances
 * the index re-exports, so values stay identical to an application's `import { Subject } from
 * 'rxjs'` (instanceof, Symbol.observable), and the declarations are the ones `'rxjs'` re-exports. Type-only imports stay on `'rxjs'`.
 *
 * `rxjs/internal/*` is an exported path of rxjs 7 but not its documented API: keeping every such
 * import in this one module (an eslint rule sends the packages here) leaves one file to mend if a
 * release moves them. A value missing here is added here, with its module.
 */
export { BehaviorSubject } from 'rxjs/internal/BehaviorSubject';
export { Observable } from 'rxjs/internal/Observable';
export { Subject } from 'rxjs/internal/Subject';
export { Subscription } from 'rxjs/internal/Subscription';
export { EMPTY } from 'rxjs/internal/observable/empty';
export { interval } from 'rxjs/internal/observable/interval';
export { NEVER } from 'rxjs/internal/observable/never';
export { of } from 'rxjs/internal/observable/of';
export { timer } from 'rxjs/internal/observable/timer';
export { distinctUntilChanged } from 'rxjs/internal/operators/distinctUntilChanged';
export { map } from 'rxjs/internal/operators/map';
export { switchMap } from 'rxjs/internal/operators/switchMap';
