// nock 15 intercepts fetch through @mswjs/interceptors, which calls Promise.withResolvers (Node ≥ 22). The project
// supports Node ≥ 20.12, so tests that use nock import this first.
type Resolvers = { promise: Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };
const P = Promise as unknown as { withResolvers?: () => Resolvers };
if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers(): Resolvers {
      let resolve: (v: unknown) => void = () => {};
      let reject: (e: unknown) => void = () => {};
      const promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export { default as nock } from 'nock';
