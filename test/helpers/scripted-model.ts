// The scripted Messages API server lives in src/devtools/ (the offline demo runs it too); tests import it from here.
export * from '../../src/devtools/scripted-model.js';
