// Installs the pinned kubectl (Kustomize) and generates the Strimzi CRDs once, before
// any test file runs (tools/install.cjs), and checks the apps are built: the tests read
// each app's config schema from `node apps/<app>/dist/main.js --print-config`.
'use strict';
const { existsSync, readdirSync } = require('node:fs');
const path = require('node:path');
const { ensureKubectl, ensureStrimziCrds } = require('../tools/install.cjs');

module.exports = async function globalSetup() {
  const apps = path.resolve(__dirname, '../../../apps');
  const unbuilt = readdirSync(apps).filter((app) => !existsSync(path.join(apps, app, 'dist', 'main.js')));
  if (unbuilt.length > 0) throw new Error(`build the apps first (npx turbo run build): no dist/main.js in ${unbuilt.join(', ')}`);
  ensureKubectl();
  ensureStrimziCrds();
};
