/**
 * Declares `Symbol.dispose` for projects whose `lib` does not (a browser
 * project on `["ES2022", "DOM"]` without `@types/node`). Every weft handle has
 * a `[Symbol.dispose]()` method, so the declarations shipped for `weftjs/io`
 * name `Symbol.dispose`; without this, such a project fails to compile them
 * even when it never writes `using`. The declaration is the one
 * `lib.esnext.disposable.d.ts` and `@types/node` make, and merges with them.
 *
 * The files that name `Symbol.dispose` import this one for its declaration
 * only: at run time it is an empty module.
 */
declare global {
  interface SymbolConstructor {
    /** The method `using` calls when a declaration leaves its scope. */
    readonly dispose: unique symbol;
  }
}

export {};
