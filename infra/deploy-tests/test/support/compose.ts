import { parse } from 'yaml';
import { readRepoFile } from './repo';

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> } | string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition: string; required?: boolean }> | string[];
  ports?: (string | { target: number; published?: string | number; host_ip?: string })[];
  volumes?: (string | Record<string, unknown>)[];
  healthcheck?: { test: string[] | string; disable?: boolean };
  stop_grace_period?: string;
  [key: string]: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/** docker-compose.yml as Compose reads it: YAML 1.1 merge keys (`<<`) and anchors resolved. */
export function loadCompose(text = readRepoFile('docker-compose.yml')): ComposeFile {
  return parse(text, { merge: true }) as ComposeFile;
}

/**
 * Compose's variable interpolation (the Compose specification, "Interpolation"):
 * `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}`, `${VAR:+replacement}`, `${VAR+replacement}`. A missing required
 * variable throws with its message, as `docker compose` stops with it.
 */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      if (bare !== undefined) return env[bare] ?? '';
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$/s.exec(braced ?? '');
      if (!m) throw new Error(`invalid interpolation "${match}"`);
      const [, name, op, arg = ''] = m as unknown as [string, string, string | undefined, string | undefined];
      if (arg.includes('${')) throw new Error(`nested interpolation in "${match}" is not supported by this check`);
      const current = env[name];
      const unsetOrEmpty = current === undefined || current === '';
      switch (op) {
        case undefined:
          return current ?? '';
        case ':-':
          return unsetOrEmpty ? arg : current;
        case '-':
          return current === undefined ? arg : current;
        case ':?':
          if (unsetOrEmpty) throw new Error(`required variable ${name} is missing a value: ${arg}`);
          return current;
        case '?':
          if (current === undefined) throw new Error(`required variable ${name} is missing a value: ${arg}`);
          return current;
        case ':+':
          return unsetOrEmpty ? '' : arg;
        case '+':
          return current === undefined ? '' : arg;
        default:
          throw new Error(`invalid interpolation "${match}"`);
      }
    },
  );
}

/** Interpolates every string value of the file (keys are left as they are, as Compose does). */
export function interpolateAll<T>(node: T, env: Record<string, string | undefined>): T {
  if (typeof node === 'string') return interpolate(node, env) as T;
  if (Array.isArray(node)) return (node as unknown[]).map((item) => interpolateAll(item, env)) as T;
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node as Record<string, unknown>).map(([k, v]) => [k, interpolateAll(v, env)])) as T;
  }
  return node;
}

/** A service's environment as a map of strings, from either the map or the list form. */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

export function dependenciesOf(service: ComposeService): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

/** Published ports as { host, container } (short syntax "ip:host:container" or the long form). */
export function portsOf(service: ComposeService): { hostIp?: string; published?: number; target: number }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port !== 'string')
      return {
        hostIp: port.host_ip,
        published: port.published === undefined ? undefined : Number(port.published),
        target: port.target,
      };
    const parts = port.split(':');
    const target = Number(parts.pop());
    const published = parts.length > 0 ? Number(parts.pop()) : undefined;
    return { hostIp: parts.pop(), published, target };
  });
}

export function buildArgs(service: ComposeService): Record<string, string> | undefined {
  return typeof service.build === 'object' ? service.build.args : undefined;
}

/** The dependencies Compose refuses to start without (`required` is true unless said otherwise). */
export function requiredDependenciesOf(service: ComposeService): string[] {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return deps;
  return Object.entries(deps)
    .filter(([, d]) => d.required !== false)
    .map(([name]) => name);
}

/**
 * The services `docker compose --profile <each of profiles> up` runs: those without
 * profiles and those with one of the given profiles. Throws as Compose does when an
 * enabled service requires one that is not enabled.
 */
export function enabledServices(file: ComposeFile, profiles: string[]): string[] {
  const enabled = Object.entries(file.services)
    .filter(([, s]) => {
      const own = (s['profiles'] as string[] | undefined) ?? [];
      return own.length === 0 || own.some((p) => profiles.includes(p));
    })
    .map(([name]) => name);
  for (const name of enabled) {
    for (const dep of requiredDependenciesOf(file.services[name]!))
      if (!enabled.includes(dep))
        throw new Error(`service ${name} depends on ${dep}, which is not enabled with profiles [${profiles.join(', ')}]`);
  }
  return enabled.sort();
}

export interface ComposeCommand {
  /** The line as written. */
  line: string;
  env: Record<string, string>;
  profiles: string[];
  /** --scale service=n */
  scale: Record<string, number>;
}

/** Every `[VAR=value ...] docker compose ... up` line of a text (docs, comments). */
export function composeUpCommands(text: string): ComposeCommand[] {
  return [...text.matchAll(/^(?:\s*#)?\s*((?:[A-Z_]+=\S*\s+)*)docker compose ((?:--?[\w-]+(?:[ =]\S+)?\s+)*)up\b(.*)$/gm)].map(
    (m) => {
      const [, assignments = '', before = '', after = ''] = m;
      const flags = `${before} ${after}`;
      return {
        line: m[0].trim(),
        env: Object.fromEntries([...assignments.matchAll(/([A-Z_]+)=(\S*)/g)].map((a) => [a[1]!, a[2]!])),
        profiles: [...flags.matchAll(/--profile[ =](\S+)/g)].map((p) => p[1]!),
        scale: Object.fromEntries([...flags.matchAll(/--scale[ =]([\w-]+)=(\d+)/g)].map((p) => [p[1]!, Number(p[2])])),
      };
    },
  );
}
