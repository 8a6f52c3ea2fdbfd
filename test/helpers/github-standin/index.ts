// Tests use the same GitHub stand-in as the offline demo; its code lives in src/devtools/github-standin.
export * from '../../../src/devtools/github-standin/index.js';
