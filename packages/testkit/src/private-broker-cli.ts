/**
 * `node packages/testkit/dist/private-broker-cli.js <start|stop|remove> --port N
 * [--proxy-port N] [--cache DIR]`: a private broker of the kind `BROKER` names, for
 * shell scripts (scripts/chaos.sh), through the same code the tests use.
 */
import { privateBroker } from './private-broker';

const COMMANDS = ['start', 'stop', 'remove'] as const;
type Command = (typeof COMMANDS)[number];

function usage(problem: string): never {
  process.stderr.write(`private-broker: ${problem}\nusage: private-broker-cli.js <${COMMANDS.join('|')}> --port N [--proxy-port N] [--cache DIR]\n`);
  process.exit(2);
}

function parse(args: string[]): { command: Command; port: number; proxyPort?: number; cacheDir?: string } {
  const [command, ...rest] = args;
  if (!(COMMANDS as readonly string[]).includes(command ?? '')) usage(`unknown command "${command ?? ''}"`);
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const [name, value] = [rest[i]!, rest[i + 1]];
    if (!['--port', '--proxy-port', '--cache'].includes(name) || value === undefined) usage(`bad argument "${name}"`);
    flags.set(name, value);
  }
  const portOf = (name: string): number | undefined => {
    const raw = flags.get(name);
    if (raw === undefined) return undefined;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`${name} must be a TCP port (got "${raw}")`);
    return port;
  };
  const port = portOf('--port') ?? usage('--port is required');
  const proxyPort = portOf('--proxy-port');
  const cacheDir = flags.get('--cache');
  return { command: command as Command, port, ...(proxyPort === undefined ? {} : { proxyPort }), ...(cacheDir === undefined ? {} : { cacheDir }) };
}

async function main(): Promise<void> {
  const { command, port, ...options } = parse(process.argv.slice(2));
  const broker = privateBroker(port, options);
  await broker[command]();
  const where = Object.values(broker.env).join(' ');
  process.stdout.write(`private ${broker.kind} broker ${command === 'start' ? 'running at' : command === 'stop' ? 'stopped at' : 'stopped and wiped at'} ${where}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`private-broker: ${error.message}\n`);
  process.exit(1);
});
