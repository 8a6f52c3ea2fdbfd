// Tests send webhooks the way the offline demo does; the code lives in devtools/webhooks.ts.
export * from '../../devtools/webhooks.js';
