// The scripted Messages API server lives in devtools/ (the offline demo runs it too); tests import it from here.
export * from '../../devtools/scripted-model.js';
