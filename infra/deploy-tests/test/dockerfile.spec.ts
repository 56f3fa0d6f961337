import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { copyPaths, execForm, expand, instructions, parseDockerfile, stage } from './support/dockerfile';
import { REPO, SERVICES, readPackageJson, readRepoFile, repoPath } from './support/repo';

const dockerfile = parseDockerfile();
const runtime = stage(dockerfile, 'runtime');
const runArgs = (name: string) => instructions(stage(dockerfile, name), 'RUN').map((i) => i.args);

/** The version of a package in the root lockfile. */
function lockedVersion(name: string): string {
  const lock = JSON.parse(readRepoFile('package-lock.json')) as { packages: Record<string, { version?: string }> };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return version;
}

describe('Dockerfile', () => {
  it('passes dockerfile-utils validation (the linter of the VS Code Docker tooling)', () => {
    const problems = lintDockerfile(dockerfile.text).map(
      (d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
    );
    expect(problems).toEqual([]);
    // ... which does report a broken Dockerfile.
    expect(lintDockerfile(`${dockerfile.text}\nRUNN echo\nCMD ["node",\n`)).not.toEqual([]);
  });

  it('builds on the official Node.js image, at least 20.19 (NestJS 12 is loaded through require(esm))', () => {
    const image = expand(dockerfile.stages[0]!.from, dockerfile.globalArgs);
    const match = /^node:(\d+)(?:\.(\d+))?/.exec(image);
    expect(match).not.toBeNull();
    const [major, minor] = [Number(match![1]), Number(match![2] ?? 99)];
    expect(major > 20 || (major === 20 && minor >= 19)).toBe(true);
    const names = new Set<string>();
    for (const s of dockerfile.stages) {
      const from = expand(s.from, dockerfile.globalArgs);
      expect([from === image, names.has(from)]).toContain(true);
      if (s.name) names.add(s.name);
    }
  });

  it('uses the npm of "packageManager" and the turbo of the lockfile', () => {
    const packageManager = readPackageJson(REPO).packageManager ?? '';
    expect(`npm@${stage(dockerfile, 'base').args['NPM_VERSION']}`).toBe(packageManager);
    expect(stage(dockerfile, 'prune').args['TURBO_VERSION']).toBe(lockedVersion('turbo'));
  });

  it('prunes the workspace to the app and the packages it uses (turbo prune --docker)', () => {
    expect(stage(dockerfile, 'prune').args).toHaveProperty('APP');
    expect(runArgs('prune')).toContainEqual(
      expect.stringMatching(/^turbo prune @orderflow\/\$\{APP\} --docker --out-dir (\S+)$/),
    );
  });

  it('installs dependencies from the pruned manifests before copying the sources, and builds the app with turbo', () => {
    const build = stage(dockerfile, 'build');
    const order = build.instructions.map((i) => `${i.keyword} ${i.args}`);
    const manifests = order.findIndex((i) => /^COPY \/pruned\/json\//.test(i));
    const install = order.findIndex((i) => /^RUN npm (ci|install)\b/.test(i));
    const sources = order.findIndex((i) => /^COPY \/pruned\/full\//.test(i));
    const compile = order.findIndex((i) => /^RUN npx turbo run build --filter=@orderflow\/\$\{APP\}$/.test(i));
    expect([manifests, install, sources, compile].every((i) => i >= 0)).toBe(true);
    expect(manifests < install && install < sources && sources < compile).toBe(true);
  });

  it('ships production dependencies only: node_modules come from an --omit=dev install, the build stage gives compiled output', () => {
    expect(runArgs('prod-deps')).toContainEqual(expect.stringMatching(/^npm (ci|install) .*--omit=dev/));
    const copies = instructions(runtime, 'COPY');
    const fromBuild = copies.filter((c) => c.flags['from'] === 'build').flatMap((c) => copyPaths(c).sources);
    expect(fromBuild).toEqual(['/runtime/']);
    // /runtime holds dist/ folders (and the inventory catalog and the config schema), never node_modules.
    const assemble = runArgs('build').find((r) => r.includes('/runtime'))!;
    expect(assemble).toContain('dist');
    expect(assemble).not.toContain('node_modules');
    expect(copies.filter((c) => c.flags['from'] === 'prod-deps')).toHaveLength(1);
  });

  it('runs as a non-root user, numeric so that Kubernetes runAsNonRoot can verify it', () => {
    const user = instructions(runtime, 'USER').at(-1)?.args ?? 'root';
    const uid = user.split(':')[0]!;
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
  });

  it('makes node PID 1 (exec form, no shell), so SIGTERM reaches the service', () => {
    expect(instructions(runtime, 'ENTRYPOINT')).toEqual([]);
    const cmd = execForm(instructions(runtime, 'CMD').at(-1)!.args);
    expect(cmd?.[0]).toBe('node');
    const stop = instructions(runtime, 'STOPSIGNAL').at(-1)?.args ?? 'SIGTERM';
    expect(stop).toBe('SIGTERM');
  });

  it('checks health on /health/ready, at the port the app reads from its config schema', () => {
    const [healthcheck, ...more] = instructions(runtime, 'HEALTHCHECK');
    expect(more).toEqual([]);
    const command = execForm(healthcheck!.args.replace(/^CMD\s+/, ''));
    expect(command?.[0]).toBe('node');
    expect(command!.join(' ')).toContain('/health/ready');
    expect(command!.join(' ')).toContain('process.env.PORT');
    // The schema file it reads is written in the build stage from the app itself.
    expect(runArgs('build').join('\n')).toMatch(/--print-config > "\/runtime\/apps\/\$\{APP\}\/config-schema\.json"/);
  });

  describe.each(SERVICES)('image of %s', (app) => {
    it('starts the entry point the build produces: WORKDIR/dist/main.js', () => {
      const workdir = expand(instructions(runtime, 'WORKDIR').at(-1)!.args, { APP: app });
      const cmd = execForm(instructions(runtime, 'CMD').at(-1)!.args)!;
      // node's flags come first, the entry point last.
      const entry = path.posix.join(workdir, cmd.at(-1)!);
      expect(entry).toBe(`/app/apps/${app}/dist/main.js`);
      // /app holds the pruned workspace, so the entry is apps/<app>/dist/main.js of the repository.
      expect(existsSync(repoPath('apps', app, 'dist', 'main.js'))).toBe(true);
    });

    it('runs node with the same flags as `npm start`', () => {
      const cmd = execForm(instructions(runtime, 'CMD').at(-1)!.args)!;
      const start = (JSON.parse(readFileSync(repoPath('apps', app, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
      expect(start).toBe(cmd.join(' '));
    });
  });

  describe('build context (the repository, filtered by .dockerignore)', () => {
    const ignore = dockerignore({ ignorecase: false }).add(readFileSync(repoPath('.dockerignore'), 'utf8'));
    const inContext = (file: string) => !ignore.ignores(file);

    it('holds every file the Dockerfile copies from the context', () => {
      const fromContext = dockerfile.stages.flatMap((s) => instructions(s, 'COPY').filter((c) => c.flags['from'] === undefined));
      for (const copy of fromContext) {
        for (const source of copyPaths(copy).sources.filter((s) => s !== '.')) {
          expect([source, existsSync(path.join(REPO, source)), inContext(source)]).toEqual([source, true, true]);
        }
      }
    });

    it('holds what turbo prune needs: the manifests, the lockfile and every workspace’s sources', () => {
      const needed = [
        'package.json',
        'package-lock.json',
        'turbo.json',
        'tsconfig.base.json',
        'e2e/package.json',
        'infra/deploy-tests/package.json',
      ];
      for (const app of SERVICES)
        needed.push(`apps/${app}/package.json`, `apps/${app}/src/main.ts`, `apps/${app}/tsconfig.build.json`);
      needed.push('packages/contracts/src/index.ts', 'apps/inventory/catalog/demo.json');
      expect(needed.filter((f) => !inContext(f))).toEqual([]);
    });

    it('leaves out installed and built files, the git history and secrets', () => {
      const excluded = [
        'node_modules/typescript/package.json',
        'apps/orders/node_modules/x',
        'apps/orders/dist/main.js',
        'packages/contracts/dist/index.js',
        '.git/HEAD',
        '.env',
        'apps/orders/.env',
        '.cache/dev-jwt-secret',
        '.turbo/cache/x',
      ];
      expect(excluded.filter(inContext)).toEqual([]);
    });
  });
});
