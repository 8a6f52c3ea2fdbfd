// Tests use the same GitHub stand-in as the offline demo; its code lives in devtools/github-standin.
export * from '../../../devtools/github-standin/index.js';
