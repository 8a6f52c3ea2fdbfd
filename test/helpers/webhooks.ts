// Tests send webhooks the way the offline demo does; the code lives in src/devtools/webhooks.ts.
export * from '../../src/devtools/webhooks.js';
