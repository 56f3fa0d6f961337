// Jest loads modules through its own CommonJS loader and cannot require an
// ES module (jestjs/jest#15865), as Node itself can since 20.19. jose 6 ships
// only ES modules, so jest suites get it rewritten to CommonJS here; the
// services and scripts load the real package through Node's require(esm).
'use strict';
const ts = require('typescript');

module.exports = {
  process(source, filename) {
    const { outputText, sourceMapText } = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, sourceMap: true, esModuleInterop: true },
    });
    return { code: outputText, map: sourceMapText };
  },
};
