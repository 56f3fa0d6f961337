import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { copyPaths, expand, instructions, parseDockerfile, stage } from './support/dockerfile';
import { REPO, SERVICES, configSchema, internalClosure, readPackageJson, repoPath, workspaces } from './support/repo';

const run = promisify(execFile);

/**
 * What `docker build` does in the prune and build stages, without Docker:
 *  1. the Dockerfile's `turbo prune @orderflow/<app> --docker` into a temporary dir;
 *  2. the build stage's tree: json/, then full/, then the files the build stage
 *     copies from the context (tsconfig.base.json);
 *  3. instead of `npm install` (slow, online): a node_modules whose entries link to the
 *     repository's installed packages, except @orderflow/*, which link only to the
 *     pruned workspaces, so a workspace package missing from the prune is not found;
 *  4. the build stage's `npx turbo run build --filter=@orderflow/<app>`;
 *  5. the runtime's entry point, run from the pruned tree: `node dist/main.js --print-config`.
 */
interface Pruned {
  out: string;
  build: string;
  jsonWorkspaces: string[];
  fullWorkspaces: string[];
  built: string[];
  printConfig: string;
  lockfile: { packages: Record<string, unknown> };
}

const dockerfile = parseDockerfile();
const pruneCommand = instructions(stage(dockerfile, 'prune'), 'RUN').find((r) => r.args.startsWith('turbo prune'))!.args;
const buildCommand = instructions(stage(dockerfile, 'build'), 'RUN').find((r) => r.args.includes('turbo run build'))!.args;
const contextCopies = instructions(stage(dockerfile, 'build'), 'COPY')
  .filter((c) => c.flags['from'] === undefined)
  .flatMap((c) => copyPaths(c).sources);

const workspaceNames = (root: string) => [...workspaces(root).keys()].sort();

function linkNodeModules(build: string, prunedWorkspaces: Map<string, string>): void {
  const nodeModules = path.join(build, 'node_modules');
  mkdirSync(path.join(nodeModules, '@orderflow'), { recursive: true });
  for (const entry of readdirSync(repoPath('node_modules'))) {
    if (entry === '@orderflow') continue;
    symlinkSync(repoPath('node_modules', entry), path.join(nodeModules, entry));
  }
  for (const [name, dir] of prunedWorkspaces) {
    symlinkSync(path.join(build, dir), path.join(nodeModules, name));
  }
}

async function pruneAndBuild(app: string, tmp: string): Promise<Pruned> {
  const out = path.join(tmp, 'out');
  const build = path.join(tmp, 'build');
  const turbo = repoPath('node_modules', '.bin', 'turbo');
  const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1', DO_NOT_TRACK: '1' };
  const [, ...pruneArgs] = expand(pruneCommand, { APP: app })
    .replace(/--out-dir \S+/, `--out-dir ${out}`)
    .split(/\s+/);
  await run(turbo, pruneArgs, { cwd: REPO, env });

  cpSync(path.join(out, 'json'), build, { recursive: true });
  cpSync(path.join(out, 'full'), build, { recursive: true });
  for (const file of contextCopies) cpSync(repoPath(file), path.join(build, file), { recursive: true });
  linkNodeModules(build, workspaces(build));

  const [npx, ...buildArgs] = expand(buildCommand, { APP: app }).split(/\s+/);
  await run(npx!, buildArgs, { cwd: build, env, maxBuffer: 16 * 1024 * 1024 });
  const { stdout } = await run(process.execPath, ['dist/main.js', '--print-config'], { cwd: path.join(build, 'apps', app) });

  const all = workspaces(build);
  return {
    out,
    build,
    jsonWorkspaces: workspaceNames(path.join(out, 'json')),
    fullWorkspaces: workspaceNames(path.join(out, 'full')),
    built: [...all]
      .filter(([, dir]) => existsSync(path.join(build, dir, 'dist')))
      .map(([name]) => name)
      .sort(),
    printConfig: stdout,
    lockfile: JSON.parse(readFileSync(path.join(out, 'json', 'package-lock.json'), 'utf8')) as Pruned['lockfile'],
  };
}

/** Runs `tasks` two at a time: the machine has two cores and each build is one tsc chain. */
async function inPairs<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

describe('turbo prune --docker (the Dockerfile prune and build stages, run here)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'orderflow-prune-'));
  const results = new Map<string, Pruned | Error>();

  beforeAll(async () => {
    const outcomes = await inPairs(
      SERVICES.map((app) => async () => {
        try {
          return await pruneAndBuild(app, path.join(tmp, app));
        } catch (error) {
          return error as Error;
        }
      }),
    );
    SERVICES.forEach((app, i) => results.set(app, outcomes[i]!));
  }, 300_000);

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const result = (app: string): Pruned => {
    const r = results.get(app);
    if (r instanceof Error) throw r;
    if (!r) throw new Error(`no prune result for ${app}`);
    return r;
  };

  // Workspaces the root package.json depends on: turbo prune keeps them too.
  const rootWorkspaceDeps = () => {
    const root = readPackageJson(REPO);
    const all = workspaces();
    return Object.keys({ ...root.dependencies, ...root.devDependencies }).filter((d) => all.has(d));
  };

  describe.each(SERVICES)('%s', (app) => {
    const own = () => [...internalClosure([`@orderflow/${app}`])].sort();

    it('keeps the app and exactly the workspace packages it depends on (and those the root package.json names)', () => {
      const expected = [...new Set([...own(), ...internalClosure(rootWorkspaceDeps())])].sort();
      expect(result(app).fullWorkspaces).toEqual(expected);
      expect(result(app).jsonWorkspaces).toEqual(expected);
      for (const other of SERVICES.filter((s) => s !== app))
        expect(result(app).fullWorkspaces).not.toContain(`@orderflow/${other}`);
    });

    it('puts only manifests and the lockfile in json/ (the layer npm install is cached on)', () => {
      const files: string[] = [];
      const walk = (dir: string) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          if (e.isDirectory()) walk(path.join(dir, e.name));
          else files.push(e.name);
        }
      };
      walk(path.join(result(app).out, 'json'));
      expect(new Set(files)).toEqual(new Set(['package.json', 'package-lock.json']));
    });

    it('has every external dependency of those packages in the pruned lockfile', () => {
      const all = workspaces(result(app).build);
      const missing: string[] = [];
      for (const name of own()) {
        const pkg = readPackageJson(path.join(result(app).build, all.get(name)!));
        for (const dep of Object.keys(pkg.dependencies ?? {})) {
          if (!all.has(dep) && !result(app).lockfile.packages[`node_modules/${dep}`]) missing.push(`${name} → ${dep}`);
        }
      }
      expect(missing).toEqual([]);
    });

    it('builds with the Dockerfile’s command, compiling the app and only the packages it uses', () => {
      expect(result(app).built).toEqual(own());
      expect(existsSync(path.join(result(app).build, 'apps', app, 'dist', 'main.js'))).toBe(true);
    });

    it('runs the built entry point from the pruned tree', () => {
      expect(JSON.parse(result(app).printConfig)).toEqual(configSchema(app));
    });
  });
});
